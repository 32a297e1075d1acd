"""Documents in and out, below the domain: ISO 8601 durations and the path-collecting reader.

The case codec and its JSON Schema are :mod:`cxrecovery.documents` (a public module,
above the domain model it reads and writes).
"""
