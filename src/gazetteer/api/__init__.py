"""The HTTP routers of Atlan's wire API (Atlas, Heracles, Argo): a layer above the core they call.

They take their engines and caller from `gazetteer.web.deps`; the core (`assets`, `auth`, `workflows`) never
imports them."""
