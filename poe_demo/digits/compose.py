"""Products of the shipped digit experts, by name: AND, NOT and guidance (notebook 6, ``poe-demo digits --product``).

The experts (:func:`digit_experts`):

* ``flow_all``, ``flow_01234``, ``flow_02468``: the flow networks trained on those digits;
* ``flow_0`` ... ``flow_9``: the conditional network told the digit, p(x | c);
* ``flow_none``: the conditional network told no digit, p(x).

A product is written with ``*``, ``/`` and ``^`` (:func:`parse_product`):

* AND, the digits both subsets hold: ``flow_01234 * flow_02468 / flow_all``;
* NOT, every digit but 0-4: ``flow_all^2 / flow_01234``;
* guidance g = 2 toward a 7: ``flow_none^-1 * flow_7^2`` (p(x)^(1 - g) p(x | 7)^g);
* AND sharpened by guidance g = 2: ``flow_all^-3 * flow_01234^2 * flow_02468^2``.
"""

from __future__ import annotations

import re

from ..experts import ModelExpert, Product, power
from .nets import NONE
from .steering import flow_expert

__all__ = ["AND", "NOT", "guidance", "and_guidance", "digit_experts", "parse_product"]

AND = "flow_01234 * flow_02468 / flow_all"  # {0, 1, 2, 3, 4} and {0, 2, 4, 6, 8}: 0, 2 and 4
NOT = "flow_all^2 / flow_01234"  # every digit, not 0-4: 5 to 9


def _expression(terms: dict[str, float]) -> str:
    """``{name: w}`` as ``"name^w * ..."``, leaving out terms raised to 0 and writing ^1 as nothing."""
    return " * ".join(name if w == 1 else f"{name}^{w:g}" for name, w in terms.items() if w != 0)


def guidance(digit: int, g: float) -> str:
    """p(x)^(1 - g) p(x | digit)^g from the conditional network, as an expression (g = 1: p(x | digit) alone)."""
    return _expression({"flow_none": 1 - g, f"flow_{digit}": g})


def and_guidance(g: float) -> str:
    """AND sharpened by g: p_all (p_A p_B / p_all^2)^g = p_all^(1 - 2g) p_A^g p_B^g (g = 1 is AND)."""
    return _expression({"flow_all": 1 - 2 * g, "flow_01234": g, "flow_02468": g})


def digit_experts(models: dict) -> dict[str, ModelExpert]:
    """{name: generative expert} for every flow network in ``models`` (:func:`~poe_demo.digits.checkpoints.
    load_digit_models`), the conditional one under ``flow_0`` ... ``flow_9`` and ``flow_none``."""
    experts = {}
    for name, net in models.items():
        if hasattr(net, "expert_for"):  # the conditional network: one expert per label
            experts.update({f"flow_{d}": flow_expert(net.expert_for(d)) for d in range(10)})
            experts["flow_none"] = flow_expert(net.expert_for(NONE))
        elif name.startswith("flow"):
            experts[name] = flow_expert(net)
    return experts


_TERM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\^\s*([-+]?(?:\d+\.?\d*|\.\d+)))?\s*")


def parse_product(expression: str, experts: dict) -> Product:
    """``"A * B / U"``, ``"U^2 / A"``, ``"U^-1 * C^2"`` -> a :class:`~poe_demo.experts.Product` of ``experts``
    (by name). A name may carry ``^`` and a number; ``*`` multiplies, ``/`` divides. A ValueError names
    what is wrong: an unknown expert, a missing operator, a bad exponent."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"a product must be a non-empty expression such as {AND!r}, got {expression!r}")
    factors, position, sign = [], 0, 1.0
    while True:
        match = _TERM.match(expression, position)
        if match is None or not match.group(1):
            raise ValueError(f"expected an expert's name at character {position + 1} of {expression!r}")
        name, exponent = match.group(1), match.group(2)
        if name not in experts:
            raise ValueError(f"unknown expert {name!r} in {expression!r}; the experts are {', '.join(experts)}")
        factors.append(power(experts[name], sign * (1.0 if exponent is None else float(exponent))))
        position = match.end()
        if position == len(expression):
            break
        operator = expression[position]
        if operator not in "*/":
            raise ValueError(f"expected * or / at character {position + 1} of {expression!r}, got {operator!r}")
        sign, position = (1.0 if operator == "*" else -1.0), position + 1
    product = Product(factors)
    if not product:
        raise ValueError(f"{expression!r} cancels to no expert at all")
    return product
