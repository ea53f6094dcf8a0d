"""Publications: the pages readers browse, the catalogue, the seed import and related lists."""
