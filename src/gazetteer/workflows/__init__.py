"""The workflow service: Argo-shaped workflow templates, their runs, and the executor that runs them."""
