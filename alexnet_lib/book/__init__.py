"""What the book's notebooks use besides the library's ideas: the first cell's setup, plots,
layer tables, and the exercises' self-checks."""
