r"""The tutorial's walk, built from a recorded trace: forward, error, backward, update.

:func:`walk` turns a :class:`~deltarule.explain.events.Trace` of one example
into format-neutral :class:`Section` objects whose lines (:class:`Step`) read
``symbol = formula = numbers = value``. Every value is a recorded one: net and
out from the forward caches, :math:`\partial out/\partial net` from the
activation object's derivative, :math:`\partial E/\partial out` from the loss
object's gradient, :math:`\delta` and :math:`\partial E/\partial w` from the
backward pass. The only arithmetic here is the display of a hidden neuron's
paths, :math:`\delta_{o}\cdot w`, whose sum is what the backward pass passes down (and,
in :mod:`.units`, an output converted to the target's units, :math:`mean + std\cdot out`,
for a network trained on a standardised target: that section opens the walk).

Where the backward pass takes the output layer's :math:`\delta` from a fused
activation-and-loss formula (sigmoid with binary cross-entropy: :math:`(out -
target)/n`; see :data:`~deltarule.explain.steps.FUSED_DELTAS`), the walk shows that
formula, not the two factors :math:`\partial E/\partial out` and :math:`\partial
out/\partial net`, whose product the pass never formed (a saturated output makes them
0 and a huge clipped number). Every printed equation holds for the printed numbers.
"""

from __future__ import annotations

from ..exceptions import InputError
from .activation_formulas import constants
from .errors import error_items, gradient_parts, loss_value, softmax_parts
from .events import Trace
from .expr import D, Expr, Num, Prod, Sum, Sym, Tpl, fmt, fmt_short, to_text
from .steps import (
    ACTIVATION_FORMULAS,
    ACTIVATION_NOTES,
    E_TOTAL,
    FUSED_DELTAS,
    MINUS,
    NBSP,
    SOFTMAX_NOTE,
    Note,
    Section,
    Step,
    input_symbol,
    keep,
    latex_name,
    tpl,
)
from .units import data_section, predicted_step

__all__ = [
    "Step",
    "Note",
    "Section",
    "walk",
    "updates",
    "divergence_sentence",
    "ACTIVATION_FORMULAS",
    "NBSP",
]


def _net_step(trace: Trace, layer: int, j: int) -> Step:
    """net of neuron ``j`` of ``layer`` (from 1): its weighted inputs and its bias."""
    rec, name = trace.forward[layer - 1], trace.labels[layer][j]
    refs = [w for w in trace.weights() if w.layer == layer and w.row == j]
    symbolic: list[Expr] = [
        Prod((Sym("w", w.label[1:]), input_symbol(trace, rec.index, w.col))) for w in refs
    ]
    numbers: list[Expr] = [
        Prod((Num(rec.weight[j, w.col]), Num(rec.inputs[0, w.col]))) for w in refs
    ]
    if rec.bias is not None:
        bias = next(b for b in trace.biases() if b.layer == layer and b.row == j)
        symbolic.append(Sym("b", bias.label[1:]))
        numbers.append(Num(rec.bias[j]))
    return Step(Sym("net", name), (Sum(tuple(symbolic)), Sum(tuple(numbers))), rec.net[0, j])


def _out_steps(trace: Trace, layer: int, j: int) -> list[Step | Note | None]:
    """out of neuron ``j`` of ``layer`` (from 1), and in the target's units when recorded."""
    rec, name = trace.forward[layer - 1], trace.labels[layer][j]
    net = Sym("net", name)
    formula = ACTIVATION_FORMULAS.get(rec.activation)
    parts: tuple[Expr, ...] = (
        Tpl(f"{rec.activation}(%0)", rf"{latex_name(rec.activation)}(%0)", (net,)),
    )
    if formula is not None:
        symbols, numbers = constants(rec.activation, trace.dtype)
        parts = (
            tpl(formula[0], net, *symbols),
            tpl(formula[0], Num(rec.net[0, j]), *numbers),
        )
    elif rec.activation == "softmax":  # (of all the layer's nets)
        parts = softmax_parts(trace, rec.index, j)
    items: list[Step | Note | None] = [Step(Sym("out", name), parts, rec.out[0, j])]
    if rec.index == len(trace.forward) - 1 and trace.raw_targets:
        items.append(predicted_step(trace, j))  # (the output in the target's units)
    return items


def _forward(trace: Trace) -> Section:
    items: list[Step | Note | None] = []
    noted: set[str] = set()
    for rec in trace.forward:
        layer, count = rec.index + 1, len(trace.labels[rec.index + 1])
        items.append(None)
        if rec.activation in ACTIVATION_NOTES and rec.activation not in noted:
            noted.add(rec.activation)  # (its definition, once, before its first layer)
            items.append(Note(ACTIVATION_NOTES[rec.activation]))
        if rec.activation == "softmax":  # (each out needs every net of the layer)
            items += [_net_step(trace, layer, j) for j in range(count)]
            items += [None, Note(SOFTMAX_FORWARD)]
            for j in range(count):
                items += _out_steps(trace, layer, j)
            continue
        for j in range(count):
            items.append(_net_step(trace, layer, j))
            items += _out_steps(trace, layer, j)
    intro = (
        "Each neuron adds up its weighted inputs and its bias (net), then squashes "
        "the sum with its activation function (out)."
    )
    return Section("Forward pass", intro, tuple(items))


SOFTMAX_FORWARD = (
    "Softmax makes the outputs from all the layer's nets at once: each output is e to the "
    "power of its net, divided by the sum of those over the layer, so the outputs are "
    "positive and sum to 1."
)


def _error(trace: Trace) -> Section:
    loss, names = trace.loss, trace.labels[-1]
    items: list[Step | Note] = []
    if loss.per_output is None:
        written = error_items(trace)  # (the loss's formula, with its numbers)
        if written is not None:
            return Section("Error", written[1], tuple(written[0]))
        # (each output's target, then the loss of them all: no per-output shares exist)
        items += [Step(Sym("target", n), (), loss.target[0, k]) for k, n in enumerate(names)]
        items.append(
            Step(
                E_TOTAL,
                (
                    Tpl(
                        f"{loss.name}(out, target)",
                        rf"{latex_name(loss.name)}(\mathrm{{out}}, \mathrm{{target}})",
                    ),
                ),
                loss_value(trace, loss.total),
            )
        )
        intro = (
            f"The error is the {loss.name.replace('_', ' ')} of the outputs against the targets."
        )
        return Section("Error", intro, tuple(items))
    half = Tpl(
        "½(%0 − %1)²", r"\frac{1}{2}\left(%0 - %1\right)^{2}", fn=lambda t, o: (t - o) ** 2 / 2
    )
    for k, name in enumerate(names):
        target, out = Sym("target", name), Sym("out", name)
        numbers = (Num(loss.target[0, k]), Num(loss.output[0, k]))
        items.append(
            Step(Sym("E", name), (tpl(half, target, out), tpl(half, *numbers)), loss.per_output[k])
        )
    terms = Sum(tuple(Sym("E", n) for n in names))
    shares = Sum(tuple(Num(v) for v in loss.per_output))
    items.append(Step(E_TOTAL, (terms, shares), loss_value(trace, loss.total)))
    intro = "The squared error of each output, halved, summed over the outputs: " + keep(
        "E = ½Σ(target − out)²."
    )
    return Section("Error", intro, tuple(items))


SUM_TARGET = Tpl("Σtarget", r"\sum\mathrm{target}")


def _fused(trace: Trace) -> tuple[Tpl, float, str] | None:
    """For an output δ the backward pass computed by a fused formula: (the formula, its n,
    the note); None where δ is the chain rule's product (shown factor by factor)."""
    entry = FUSED_DELTAS.get((trace.forward[-1].activation, trace.loss.name))
    if not trace.loss.fused or entry is None:
        return None
    general, simple, note = entry
    softmax = trace.forward[-1].activation == "softmax"
    n = float(trace.loss.target[0].sum() if softmax else trace.layer_sizes[-1])
    return (simple if n == 1 else general), n, note.format(n=fmt(n, trace.dtype))


def _chain(
    trace: Trace, layer: int, j: int, upstream: float | None, delta_step: Step | None = None
) -> list[Step | Note]:
    """Lines for ∂E/∂w of every weight (and trainable bias) into neuron ``j`` of ``layer``;
    δ is ``delta_step`` when given, else the chain rule's product with ``upstream`` (None:
    δ as the backward pass had it)."""
    name = trace.labels[layer][j]
    fwd, bwd = trace.forward[layer - 1], trace.backward[layer - 1]
    out, net = Sym("out", name), Sym("net", name)
    items: list[Step | Note] = []
    if delta_step is not None or fwd.derivative is None or upstream is None:
        if delta_step is None:
            delta_step = Step(D(E_TOTAL, net), (Sym("δ", name),), bwd.delta[0, j])
        items.append(delta_step)
        first: tuple[Expr, ...] = (D(E_TOTAL, net),)
        first_num: tuple[Expr, ...] = (Num(bwd.delta[0, j]),)
    else:
        formula = ACTIVATION_FORMULAS.get(fwd.activation)
        deriv_value = fwd.derivative[0, j]
        parts: tuple[Expr, ...] = ()
        if formula is not None:
            symbols, numbers = constants(fwd.activation, trace.dtype)
            parts = (
                tpl(formula[1], out, net, *symbols),
                tpl(formula[1], Num(fwd.out[0, j]), Num(fwd.net[0, j]), *numbers),
            )
        items.append(Step(D(out, net), parts, deriv_value))
        delta_parts = (
            Prod((D(E_TOTAL, out), D(out, net))),
            Prod((Num(upstream), Num(deriv_value))),
        )
        items.append(Step(Sym("δ", name), (D(E_TOTAL, net), *delta_parts), bwd.delta[0, j]))
        first, first_num = (D(E_TOTAL, out), D(out, net)), (Num(upstream), Num(deriv_value))
    for w in (w for w in trace.weights() if w.layer == layer and w.row == j):
        sym, source = Sym("w", w.label[1:]), input_symbol(trace, layer - 1, w.col)
        items.append(Step(D(net, sym), (source,), fwd.inputs[0, w.col]))
        chain = Prod((*first, D(net, sym)))
        numbers = Prod((*first_num, Num(fwd.inputs[0, w.col])))
        items.append(Step(D(E_TOTAL, sym), (chain, numbers), bwd.grad_weight[j, w.col]))
    for b in (b for b in trace.biases() if b.layer == layer and b.row == j):
        if trace.trainable[b.flat] and bwd.grad_bias is not None:
            sym = Sym("b", b.label[1:])
            step = (Prod((D(E_TOTAL, net), D(net, sym))), Prod((Num(bwd.delta[0, j]), Num(1.0))))
            items.append(Step(D(E_TOTAL, sym), step, bwd.grad_bias[j]))
    return items


def _grad_out_step(trace: Trace, j: int) -> Step:
    """∂E_total/∂out of output ``j``: the loss's formula and its numbers, where written out."""
    loss, name = trace.loss, trace.labels[-1][j]
    parts: tuple[Expr, ...] = gradient_parts(trace, j)
    if loss.per_output is not None:
        target, out = Sym("target", name), Sym("out", name)
        minus = Tpl("−(%0 − %1)", r"-\left(%0 - %1\right)", fn=lambda t, o: o - t)
        parts = (
            tpl(minus, target, out),
            tpl(minus, Num(loss.target[0, j]), Num(loss.output[0, j])),
        )
    return Step(D(E_TOTAL, Sym("out", name)), parts, loss.grad_output[0, j])


SOFTMAX_DELTA = (
    "Softmax mixes all the outputs: each out_j depends on every net of the layer, "
    "∂out_j/∂net_k = out_j·([j = k] − out_k), so the chain rule sums over the outputs: "
    + keep("δ_k = ∂E_total/∂net_k = Σ_j ∂E_total/∂out_j·∂out_j/∂net_k")
    + " = "
    + keep("out_k·(∂E_total/∂out_k − Σ_j out_j·∂E_total/∂out_j).")
    + " The backward pass computes it so, from every output's ∂E_total/∂out."
)


def _softmax_sum(trace: Trace) -> tuple[Tpl, float]:
    """Σ_j out_j·∂E_total/∂out_j of a softmax output layer: its symbol and its value, as
    the backward pass computes it (in the network's dtype)."""
    loss, names = trace.loss, trace.labels[-1]
    stem = names[0].rstrip("0123456789")  # (o1 -> o: Σ_j out_oj·...)
    symbol = Tpl(
        f"Σ_j out_{stem}j·∂E_total/∂out_{stem}j",
        rf"\sum_j \mathrm{{out}}_{{{stem}j}} \frac{{\partial E_{{total}}}}"
        rf"{{\partial \mathrm{{out}}_{{{stem}j}}}}",
    )
    value = (loss.grad_output[0] * loss.output[0]).sum()  # (the backward pass's own sum)
    return symbol, float(value)


def _softmax_delta_intro(trace: Trace) -> list[Step | Note | None]:
    """The lines before a softmax layer's δ (with a loss not fused with it): the note, every
    output's ∂E_total/∂out, and their sum weighted by the outputs."""
    loss, names = trace.loss, trace.labels[-1]
    items: list[Step | Note | None] = [Note(SOFTMAX_DELTA), None]
    items += [_grad_out_step(trace, j) for j in range(len(names))]
    symbol, value = _softmax_sum(trace)
    terms = Sum(tuple(Prod((Sym("out", n), D(E_TOTAL, Sym("out", n)))) for n in names))
    numbers = Sum(
        tuple(
            Prod((Num(loss.output[0, j]), Num(loss.grad_output[0, j]))) for j in range(len(names))
        )
    )
    items.append(Step(symbol, (terms, numbers), value))
    return items


def _softmax_delta(trace: Trace, j: int) -> Step:
    """δ of softmax output ``j``: out_j·(∂E_total/∂out_j − Σ_k out_k·∂E_total/∂out_k)."""
    loss, name = trace.loss, trace.labels[-1][j]
    symbol, value = _softmax_sum(trace)
    formula = Tpl("%0·(%1 − %2)", r"%0 \cdot \left(%1 - %2\right)", fn=lambda o, g, s: o * (g - s))
    symbols = tpl(formula, Sym("out", name), D(E_TOTAL, Sym("out", name)), symbol)
    numbers = tpl(formula, Num(loss.output[0, j]), Num(loss.grad_output[0, j]), Num(value))
    net = Sym("net", name)
    return Step(Sym("δ", name), (D(E_TOTAL, net), symbols, numbers), trace.backward[-1].delta[0, j])


def _output_layer(trace: Trace) -> Section:
    loss, layer = trace.loss, len(trace.layer_sizes) - 1
    items: list[Step | Note | None] = []
    fused = _fused(trace)
    softmax = trace.forward[-1].activation == "softmax"
    if fused is not None:
        items.append(Note(fused[2]))
    elif softmax:  # (δ from every output's ∂E/∂out, through softmax's Jacobian)
        items += _softmax_delta_intro(trace)
    elif trace.forward[-1].derivative is None:
        items.append(Note(SOFTMAX_NOTE))
    for j, name in enumerate(trace.labels[layer]):
        items.append(None)
        if fused is not None:
            formula, n = fused[0], Num(fused[1])
            out, target = Sym("out", name), Sym("target", name)
            numbers = tpl(formula, Num(loss.output[0, j]), Num(loss.target[0, j]), n)
            symbols = tpl(formula, out, target, SUM_TARGET if softmax else Sym("n"))
            delta = Step(
                Sym("δ", name),
                (D(E_TOTAL, Sym("net", name)), symbols, numbers),
                trace.backward[-1].delta[0, j],
            )
            items.extend(_chain(trace, layer, j, None, delta))
            continue
        if softmax:
            items.extend(_chain(trace, layer, j, None, _softmax_delta(trace, j)))
            continue
        if trace.forward[-1].derivative is None:
            items.extend(_chain(trace, layer, j, None))
            continue
        upstream = loss.grad_output[0, j]
        items.append(_grad_out_step(trace, j))
        items.extend(_chain(trace, layer, j, upstream))
    intro = (
        "How much does each output weight change the error? The chain rule splits "
        "∂E_total/∂w into " + keep("∂E_total/∂out · ∂out/∂net · ∂net/∂w.")
    )
    return Section(
        f"Backward pass: output layer ({_neurons(len(trace.labels[layer]))})", intro, tuple(items)
    )


def _path_steps(trace: Trace, layer: int, j: int) -> tuple[list[Step | Note], Sum, Sum, float]:
    """One line per path from neuron ``j`` of hidden ``layer`` through the next layer."""
    name, nxt = trace.labels[layer][j], layer + 1
    weight, delta = trace.forward[nxt - 1].weight, trace.backward[nxt - 1].delta
    by_target = {(w.row, w.col): w for w in trace.weights() if w.layer == nxt}
    separable = nxt == len(trace.layer_sizes) - 1 and trace.loss.per_output is not None
    items: list[Step | Note] = []
    symbols, values, total = [], [], 0.0
    for n, target in enumerate(trace.labels[nxt]):
        w = Sym("w", by_target[(n, j)].label[1:])
        head = D(Sym("E", target) if separable else E_TOTAL, Sym("net", target))
        chain = Prod((head, D(Sym("net", target), Sym("out", name))))
        value = float(delta[0, n] * weight[n, j])
        lhs: Expr = D(Sym("E", target), Sym("out", name)) if separable else chain
        parts = (chain, Prod((Sym("δ", target), w)), Prod((Num(delta[0, n]), Num(weight[n, j]))))
        items.append(Step(lhs, parts if separable else parts[1:], value))
        symbols.append(lhs)
        values.append(Num(value))
        total += value
    return items, Sum(tuple(symbols)), Sum(tuple(values)), total


def _hidden_layer(trace: Trace, layer: int) -> Section:
    items: list[Step | Note | None] = []
    for j, name in enumerate(trace.labels[layer]):
        items.append(None)
        paths, symbols, values, total = _path_steps(trace, layer, j)
        items.extend(paths)
        items.append(Step(D(E_TOTAL, Sym("out", name)), (symbols, values), total))
        items.extend(_chain(trace, layer, j, total))
    intro = (
        "A hidden neuron's output feeds every neuron of the next layer, so its share "
        "of the error is the sum over those paths; then the chain rule goes on as before."
    )
    title = f"Backward pass: hidden layer {layer} ({_neurons(len(trace.labels[layer]))})"
    return Section(title, intro, tuple(items))


def _update(trace: Trace) -> Section:
    eta = Sym("η")
    items: list[Step | Note] = []
    frozen = []
    refs = [(w.label, w.flat) for w in trace.weights()] + [
        (b.label, b.flat) for b in trace.biases()
    ]
    for label, flat in refs:
        if not trace.trainable[flat]:
            if label not in frozen:
                frozen.append(label)
            continue
        sym = Sym(label[0], label[1:])
        formula = tpl(MINUS, sym, Prod((eta, D(E_TOTAL, sym))))
        step = Prod((Num(trace.learning_rate), Num(trace.gradient[flat])))
        numbers = tpl(MINUS, Num(trace.parameters[flat]), step)
        items.append(Step(Sym(label[0], label[1:], "+"), (formula, numbers), trace.updated[flat]))
    if frozen:
        items.append(Note(f"{', '.join(frozen)}: frozen, so they keep their values."))
    intro = "Every weight takes one step against its gradient, with learning rate " + keep(
        f"η = {trace.learning_rate:g}: w⁺ = w − η·∂E_total/∂w."
    )
    return Section("Update", intro, tuple(items))


def updates(n: int) -> str:
    """``"1 update"``, ``"2 updates"``, ``"10,000 updates"``."""
    return f"{n:,} update" + ("" if n == 1 else "s")


def _training(trace: Trace) -> Section:
    items: tuple[Step | Note | None, ...] = tuple(
        Step(
            Tpl(f"E after {updates(n)}", rf"E\ \text{{after {updates(n)}}}"),
            (),
            Num(error, short=True),  # (a curve's values: no operands)
        )
        for n, error in trace.curve
    )
    if trace.final_output is not None and trace.layer_sizes[-1] <= _MAX_OUTPUTS_SHOWN:
        items += tuple(
            Step(
                Tpl(f"out_{name} after {updates(trace.steps)}",
                    rf"\mathrm{{out}}_{{{name}}}\ \text{{after {updates(trace.steps)}}}"),
                (),
                value,
            )
            for name, value in zip(trace.labels[-1], trace.final_output[0])
        )  # fmt: skip
    if trace.diverged is not None:
        items += (Note(divergence_sentence(trace)),)
    elif len(trace.curve) > 1 and trace.curve[-1][1] > trace.curve[0][1]:
        first, last = trace.curve[0][1], trace.curve[-1][1]
        items += (
            Note(
                f"The error grew, from {fmt_short(first, trace.dtype)} to "
                f"{fmt_short(last, trace.dtype)}, instead of falling: the steps overshoot, "
                f"so the learning rate ({keep(f'η = {trace.learning_rate:g}')}) is too large "
                "for this example; try a smaller one."
            ),
        )
    shown = len(trace.curve)
    some = (
        f" (the error after {shown} of them, spaced more widely as training goes on)"
        if shown < trace.steps + 1
        else ""
    )
    intro = (
        f"Repeating forward pass, backward pass and update, {updates(trace.steps)} in all "
        f"(plain gradient descent, {keep(f'η = {trace.learning_rate:g}')}). The error after "
        "n updates is that of the (n + 1)th forward pass, the one fit's history records for "
        f"epoch n + 1{some}:"
    )
    return Section("Training on", intro, items)


_MAX_OUTPUTS_SHOWN = 10
"""The most outputs listed after further training."""


def _with_footnotes(section: Section, trace: Trace) -> Section:
    """Put each of the trace's footnotes after the line whose left side it names."""
    if not trace.footnotes:
        return section
    items: list[Step | Note | None] = []
    for item in section.items:
        items.append(item)
        if isinstance(item, Step):
            lhs = to_text(item.lhs)
            items += [Note(text) for line, text in trace.footnotes if line == lhs]
    return Section(section.title, section.intro, tuple(items))


def divergence_sentence(trace: Trace) -> str:
    """Say where the further training diverged ("" when it did not)."""
    if trace.diverged is None:
        return ""
    return (
        f"The training diverged: after {updates(trace.diverged)} the error was no longer a "
        f"finite number (it overflowed), so it stopped there, short of {updates(trace.steps)}. "
        f"The learning rate η = {trace.learning_rate:g} is too large for this example; try a "
        "smaller one."
    )


def walk(trace: Trace) -> list[Section]:
    """Return the walk through one example's trace, section by section.

    Raises
    ------
    InputError
        If the trace holds more than one example.
    """
    if trace.n_samples != 1:
        raise InputError(
            f"the step-by-step walk shows one example; the trace has {trace.n_samples}. "
            "Trace a single row (explain_example(network, x))."
        )
    first = data_section(trace)
    sections = [] if first is None else [first]
    sections += [_forward(trace), _error(trace), _output_layer(trace)]
    sections += [_hidden_layer(trace, layer) for layer in range(len(trace.layer_sizes) - 2, 0, -1)]
    sections.append(_update(trace))
    if trace.curve or trace.diverged is not None:
        sections.append(_training(trace))
    return [_with_footnotes(section, trace) for section in sections]


def _neurons(n: int) -> str:
    return f"{n} neuron{'' if n == 1 else 's'}"
