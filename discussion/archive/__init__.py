"""Bringing an archive in (WordPress, Disqus, Isso, this site's own export) and taking
it away again (the JSON Lines export, WXR, backups), and a person's data on request."""
