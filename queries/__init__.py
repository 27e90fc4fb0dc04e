"""Named SPARQL queries: each ``*.rq`` file here is one question the graph answers."""
