"""Views of query results for people and libraries: networkx graphs (``kg.views.networkx``) and more."""
