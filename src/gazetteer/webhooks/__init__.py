"""Webhooks: telling other systems when something happens in the catalog (docs: the README's Webhooks section).

- `outbox.enqueue`: called in the transaction of a change (a crawl's commit, a run's end) to queue one delivery
  per interested subscription; `run_events` is the run's end.
- `subscriptions` (with `inputs`): who is told what; `signing`: how receivers know it was us.
- `delivery.Dispatcher`: the server's thread that sends due deliveries (`claims`), as JSON or `slack` messages.

A core package: it never imports the API, the web app or the commands.
"""
