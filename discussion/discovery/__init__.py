"""How readers, search engines and feed readers find the site: article metadata
(canonical link, OpenGraph, Twitter card, JSON-LD), robots.txt, the favicon."""
