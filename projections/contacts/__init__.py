"""The professional contact graph: persons followed, the professionals and relatives who
intervene around them (with a role and a period), and the organisations those work for."""
