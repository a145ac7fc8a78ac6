"""Write student copies of the notebooks: solutions emptied, outputs cleared.

    python tools/student.py [OUTPUT_DIR]     (default: student/, ignored by git)

Cells tagged "solution" keep their place and their tag, with the solution replaced
by a prompt: each is the student's answer cell. Every output and execution count is
cleared, and the test tags (nbval-*, for the repository's own tests) are removed. The
copies run top to bottom: a code answer cell keeps what the check cell
after it needs, as stubs (`answer_1 = None`, or a function returning None), so the
check says "not answered yet" until the student fills it in.
"""

import ast
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CODE_PROMPT = "# Your solution here: replace this line with your code.\n"
MARKDOWN_PROMPT = "*Your answer here.*"


def without_test_tags(notebook):
    """Drop nbval's cell tags: they steer the repository's tests, not the reader."""
    for cell in notebook.cells:
        tags = [tag for tag in cell.metadata.get("tags", []) if not tag.startswith("nbval-")]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return notebook


def checked_names(notebook):
    """The names the notebook's check cells pass as answers: h.exercises.check("NN.k", name)."""
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return set(re.findall(r"h\.exercises\.check\(\s*\"[\d.]+\",\s*(\w+)", sources))


def stubs(solution, names):
    """Placeholders for the checked names a solution defines: `name = None`, or a function."""
    lines = []
    for node in ast.parse(solution).body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            signature = ast.unparse(node.args)
            lines += [f"def {node.name}({signature}):", "    return None  # your code here"]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            lines += [f"{name} = None" for name in targets if name in names]
    return "".join(line + "\n" for line in lines)


def student_copy(notebook):
    without_test_tags(notebook)
    names = checked_names(notebook)
    for cell in notebook.cells:
        if "solution" in cell.metadata.get("tags", []):
            if cell.cell_type == "code":
                cell.source = CODE_PROMPT + stubs(cell.source, names)
            else:
                cell.source = MARKDOWN_PROMPT
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def write_copies(output):
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = student_copy(nbformat.read(path, as_version=4))
        nbformat.write(notebook, output / path.name)
        written.append(output / path.name)
    return written


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Write student copies of the notebooks: solutions emptied, outputs cleared."
    )
    parser.add_argument(
        "folder", nargs="?", type=Path, default=ROOT / "student", help="where (default: student/)"
    )
    for path in write_copies(parser.parse_args().folder):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
