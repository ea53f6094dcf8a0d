"""Request plumbing every feature shares: security headers and the cross-site check,
the page cache, the shared form token, database engine settings, error pages, template
filters, request-argument parsing and form validators."""
