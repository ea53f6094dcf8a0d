"""Comments on the publisher's other sites: ``/embed.js``, the embedded thread, counts."""
