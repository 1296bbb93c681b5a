"""Booklets: per-customer PDF booklets from static pages, forms, chosen pages and Excel tabs."""
