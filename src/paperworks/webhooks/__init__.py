"""Webhooks: a workspace's HTTPS endpoints told of its events, signed as Standard Webhooks says.

An owner or admin registers an endpoint and the event types it wants (`event_types`); each
event published in the workspace (`events.publish`) that one matches is recorded as a delivery
in the event's own transaction and sent by a `webhooks.deliver` job once that commits
(`service.record_deliveries`). The job signs and sends it (`signing`, `sending`), retries on
Svix's schedule over a little more than a day, and disables an endpoint that has failed for
days, mailing the workspace's owners.

How it is plugged in, and why so:

- `events` does not import this package: `Services.build` subscribes `DeliveryRecorder` to the
  database's events (`events.subscribe`), the way the event hub is shared with every session.
  The subscription belongs to a database and carries the process's job queue, so an API process
  and a Celery worker (where `booklet.generated` and `job.succeeded` are published) both record
  deliveries and dispatch their jobs through their own queue, and two apps in one test process
  never see each other's. An import-time global hook could do neither.
- The router is one of the platform's in `create_app` and the handler one of
  `paperworks.product.job_handlers`' platform handlers, not a `Product`: a product is something
  a user works in (with MCP tools, live events, its own settings), and an app built with a
  subset of products (`create_app(products=...)`) must still deliver what those products publish.
"""
