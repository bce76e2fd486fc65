"""Practice mode's pages and data; the top layer, since its reset reaches guided runs too."""
