"""The README's example of the helpers API runs as printed, and says what it does."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def api_example():
    """The python code block of the README's section on the helpers package."""
    section = README.read_text(encoding="utf-8").split("## The `helpers` package", 1)[1]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert blocks, "the README's helpers section has no python code block"
    return blocks[0]


def test_the_readme_api_example_runs_on_its_own_names_alone():
    code = api_example()
    assert "import helpers as h" in code
    names = {}
    exec(compile(code, str(README), "exec"), names)  # a NameError here: a name it never defines
    model, grads, exact = names["model"], names["grads"], names["exact"]
    # What its comments say.
    shapes = {name: tuple(value.shape) for name, value in model.params.items()}
    assert shapes == {"logits": (5,), "A": (15,), "B": (), "C": (15,), "D": ()}
    assert model.probs().shape == (5,) and names["h"].exact_loss(model).shape == ()
    assert names["mu"].shape == names["sigma"].shape == (5,)
    assert all(np.shape(exact[k]) == shapes[k] for k in shapes)
    assert all(grads[k].shape == (1000, *shapes[k]) for k in shapes)
    assert names["worst"] < names["bound"]  # the elementary estimator is unbiased
