"""Build book/<lang>/07_ablation.ipynb from a cell list (md / code with tags)."""
import sys, importlib, nbformat

lang = sys.argv[1]
mod = importlib.import_module(f"cells_{lang}")
nb = nbformat.v4.new_notebook()
cells = []
for i, cell in enumerate(mod.CELLS):
    kind, src = cell[0], cell[1].strip("\n")
    tags = cell[2] if len(cell) > 2 else []
    if kind == "md":
        c = nbformat.v4.new_markdown_cell(src)
    else:
        c = nbformat.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = tags
    c.id = f"c{i:03d}"
    cells.append(c)
nb.cells = cells
nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
nbformat.write(nb, f"book/{lang}/07_ablation.ipynb")
print("written", len(cells), "cells")
