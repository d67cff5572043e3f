"""What an operator watches: metrics read from the database at scrape time, and their exposition.

``keyholder.metrics`` counts what happens in a process; ``collector`` reads what
the database knows; ``exposition`` puts both in Prometheus' text format, for the
app's ``/metrics`` route and for the small separate server (``server``) that
``keyholder serve`` and ``keyholder worker`` start on ``KEYHOLDER_METRICS_ADDRESS``.
"""
