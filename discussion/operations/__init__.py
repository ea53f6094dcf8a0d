"""What operators' monitoring expects: ``/healthz``, ``/readyz``, ``/metrics`` (Prometheus)
and logs as JSON lines with a request id that every answer carries as a header."""
