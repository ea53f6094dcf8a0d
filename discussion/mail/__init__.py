"""Mail: a durable outbox written with the events that cause it, delivered by a worker.

``outbox`` (the rows), ``notices`` (what each event mails), ``subscriptions`` (readers'
double opt-in, confirming, stopping), ``messages`` (rendering a row into a mail),
``delivery`` (the worker's sending, retries, the .eml fallback), ``jobs`` (digests,
stale-queue alerts, erasure), ``links`` (absolute URLs from SITE_URL), ``views``.
"""
