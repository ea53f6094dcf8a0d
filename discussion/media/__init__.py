"""Media: images editors upload, checked and re-encoded, stored under content-hashed
names in a few widths, and served with long-lived cache headers."""
