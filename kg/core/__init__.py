"""The bottom layer of igkg: errors, the one prefix map, RDF terms, IRIs, settings, file helpers.

Every other package of igkg may import ``kg.core``; ``kg.core`` imports nothing else of igkg.
"""
