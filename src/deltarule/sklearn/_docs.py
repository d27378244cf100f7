"""Docstring sections shared by :class:`MLPClassifier` and :class:`MLPRegressor`."""

from __future__ import annotations

__all__ = ["ATTRIBUTES", "CLASSIFIER_DOC", "EXTRAS", "NOTES", "PARAMETERS", "REGRESSOR_DOC"]

PARAMETERS = """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of neurons in the ith hidden layer.
activation : str or list of str, default='relu'
    Hidden-layer activation: 'identity', 'logistic', 'tanh', 'relu', or any
    deltarule activation name ('elu', 'gelu', 'silu', ...); a list gives one per
    hidden layer. Your own :class:`deltarule.Activation` is used by name after
    :func:`deltarule.register_activation` (names keep the estimator clonable and its
    files free of code).
solver : {'adam', 'sgd', 'lbfgs', 'adamw', 'rmsprop', 'adagrad', 'rprop', 'lm'}, \
default='adam'
    'sgd' is scikit-learn's SGD with (Nesterov) momentum; 'lbfgs' and 'lm'
    (Levenberg–Marquardt, squared error only) are full-batch solvers without
    ``partial_fit`` or early stopping. 'rprop' trains on the whole set when
    ``batch_size='auto'``.
alpha : float, default=0.0001
    L2 penalty strength. Each batch of (weighted) size :math:`s_B` adds
    :math:`\\tfrac{\\alpha}{2 s_B}\\sum_l\\lVert W_l\\rVert^2` to its error, as
    scikit-learn does (equivalently deltarule's ``l2 = alpha / s_B``).
batch_size : int or 'auto', default='auto'
    Minibatch size; 'auto' is ``min(200, n_samples)``.
learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
    Schedule of 'sgd': 'invscaling' sets
    ``learning_rate_init / (t_ + 1) ** power_t`` after each epoch; 'adaptive'
    divides the rate by 5 whenever ``n_iter_no_change`` epochs pass without
    improvement by ``tol`` (and stops once it is at most 1e-6).
learning_rate_init : float, default=0.001
    Initial learning rate (first-order solvers; 'rprop' uses its own step sizes).
power_t : float, default=0.5
    Exponent of 'invscaling'.
max_iter : int, default=200
    Maximum number of epochs (iterations for the full-batch solvers).
shuffle : bool, default=True
    Shuffle the samples each epoch.
random_state : int, RandomState instance or None, default=None
    Draws, as scikit-learn does and from the same stream, the initial weights,
    the early-stopping split and each epoch's shuffle (the same ``random_state``
    gives scikit-learn's batches); and the seed of dropout, without advancing it.
tol : float, default=1e-4
    Improvement threshold of the stopping rule.
verbose : bool, default=False
    Print the loss of each epoch.
warm_start : bool, default=False
    Continue from ``coefs_``/``intercepts_`` as they stand (arrays assigned to
    them included) instead of initialising afresh, with the ``activation`` (and
    ``dropout``) set now, as scikit-learn's does; other ``hidden_layer_sizes`` or
    ``dtype`` are refused (scikit-learn keeps the old sizes silently). ``predict``
    computes the network as last fitted.
momentum : float, default=0.9
    Momentum of 'sgd', in [0, 1].
nesterovs_momentum : bool, default=True
    Use Nesterov's momentum with 'sgd'.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the training data (stratified for
    binary targets, as scikit-learn does), stop when its score (accuracy or R²) has not
    improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the
    best-scoring weights. First-order solvers only.
validation_fraction : float, default=0.1
    Share held out for early stopping.
beta_1, beta_2 : float, default=0.9, 0.999
    Adam's moment decays, in [0, 1).
epsilon : float, default=1e-8
    Adam's (and RMSprop's, Adagrad's) numerical-stability constant.
n_iter_no_change : int, default=10
    Epochs without improvement by ``tol`` before stopping (or, for
    'adaptive', before the rate is cut).
max_fun : int, default=15000
    Maximum number of loss evaluations of 'lbfgs'."""

EXTRAS = """\
dropout : float or list of float, default=0.0
    deltarule extra: dropout rate of the hidden layers during training (one
    rate, or one per hidden layer).
dtype : {'auto', 'float64', 'float32'}, default='auto'
    deltarule extra: the network's dtype. 'auto' follows the training data as
    scikit-learn does: float32 input stays float32, anything else is float64.
callbacks : list of deltarule.callbacks.Callback, default=None
    deltarule extra: run after the estimator's own callbacks every epoch
    (e.g. ``CSVLogger``, ``TimeLimit``, ``ModelCheckpoint``)."""

ATTRIBUTES = """\
loss_ : float
    Training loss of the last epoch (penalty included): with several batches
    an epoch, the mean of the batches' losses weighted by their numbers of rows,
    each batch's loss being its ``sample_weight``-weighted mean, as in
    scikit-learn. ``inf`` (``nan`` for 'lbfgs' and 'lm') when training diverged:
    see Notes.
best_loss_ : float or None
    Lowest training loss; None with early stopping.
loss_curve_ : list of float
    Training loss of every epoch (every iteration for 'lm').
validation_scores_ : list of float or None
    Validation score of every epoch with early stopping, else None.
best_validation_score_ : float or None
    Best validation score with early stopping, else None.
validation_loss_curve_ : list of float or None
    Validation loss (no penalty) of every epoch with early stopping, else None.
    As scikit-learn's, an 'lbfgs' fit sets none of these five (nor changes those
    of an earlier fit it warm-starts from).
t_ : int
    Number of training samples seen by the first-order solvers.
coefs_ : list of ndarray, the ith of shape (n_units[i], n_units[i + 1])
    Weight matrices, views of the network's transposed weights.
intercepts_ : list of ndarray, the ith of shape (n_units[i + 1],)
    Bias vectors, views of the network's biases.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Feature names, when X had string column names (pandas).
n_iter_ : int
    Epochs (or solver iterations) run by the last fit or partial_fit call.
n_layers_ : int
    Number of layers, input and output included.
n_outputs_ : int
    Number of outputs.
out_activation_ : str
    Output activation: 'logistic', 'softmax', 'identity' or 'exp'.
network_ : deltarule.Network
    The trained network (a subclass whose error is scikit-learn's objective)."""

NOTES = """\
**A fit that fails changes nothing.** When ``fit`` or ``partial_fit`` raises —
bad data or parameters, the early-stopping split too small, a callback that
raises, a warning turned into an error before training ends (the
``batch_size`` clipping warning, say) — the estimator is left exactly as it was
before the call: every fitted attribute, the weights, the optimizer's state and
random streams, the stopping rules' records; after a failed first fit it is
unfitted. (A ``RandomState`` given as ``random_state`` is shared with the
caller: its draws are not taken back, as in scikit-learn.) The one exception is
the convergence warning, issued once training has finished and every attribute
describes the new fit: turned into an error
(``warnings.simplefilter("error", ConvergenceWarning)``), it leaves the newly
trained estimator in place, as scikit-learn's does.

**Convergence warnings** (``max_iter`` reached, L-BFGS failing, training
diverging) are :class:`deltarule.sklearn.ConvergenceWarning`, a subclass of
both :class:`sklearn.exceptions.ConvergenceWarning` and
:class:`deltarule.exceptions.ConvergenceWarning`, so filters and ``except``
clauses for either apply. They point at the line that called ``fit`` or
``partial_fit`` (the first caller outside deltarule): filter them by category.

**Divergence.** When an epoch's loss or weights overflow to infinity or NaN,
training stops with a convergence warning and the weights of the last finite
epoch are restored; ``loss_`` is then ``inf`` (``nan`` for 'lbfgs' and 'lm'), as
scikit-learn reports, while ``n_iter_``, ``t_`` and ``loss_curve_`` count the
finite epochs only (scikit-learn runs on through the non-finite ones).

**Parameter errors** are :class:`deltarule.sklearn.InvalidParameterError`, a
subclass of scikit-learn's ``InvalidParameterError`` (so both a ``ValueError``
and a ``TypeError``), worded as scikit-learn words them.

**Sparse input.** ``X`` may be a scipy sparse matrix or array, as for
scikit-learn's MLPs (CSR and CSC are taken as they are, other formats converted
to CSR), e.g. ``make_pipeline(TfidfVectorizer(), MLPClassifier())``. It stays
sparse. Where fewer than 5% of its entries are stored and it has at least 500
columns, the first layer multiplies its CSR rows by sparse products, as
scikit-learn does: the cost grows with the stored values, not the columns.
Narrower or denser ``X`` is made dense a batch at a time (prediction: a chunk
of rows), where BLAS is faster. 'lbfgs' does the same over every row at once
(making ``X`` dense whole when dense is faster and fits in half the memory
available); 'lm' makes ``X`` dense whole, and refuses (naming its size) when it
would take more than half the memory available. A fit on sparse ``X`` gives
what the same fit on ``X.toarray()`` gives, within float rounding (bit for bit
where the rows are made dense).

Model files written by :meth:`save` hold the weights as safetensors and
everything else as JSON; :meth:`load` reads them back without pickle. Pickling
the estimator works too."""

CLASSIFIER_DOC = f"""Multi-layer perceptron classifier: scikit-learn's, on deltarule.

Same parameters, defaults, methods and fitted attributes as
:class:`sklearn.neural_network.MLPClassifier`, trained by deltarule's loop and
optimizers. Binary and multi-class targets use a logistic or softmax output
with log-loss; a binary indicator matrix gives multi-label classification.

Parameters
----------
{PARAMETERS}
class_weight : dict, 'balanced' or None, default=None
    deltarule extra: weights by class label, multiplied into ``sample_weight``
    (single-label targets).
{EXTRAS}

Attributes
----------
classes_ : ndarray of shape (n_classes,)
    Class labels.
{ATTRIBUTES}

Notes
-----
{NOTES}

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from deltarule.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, y)
>>> clf.predict_proba(X[:2]).shape
(2, 3)
"""

REGRESSOR_DOC = f"""Multi-layer perceptron regressor: scikit-learn's, on deltarule.

Same parameters, defaults, methods and fitted attributes as
:class:`sklearn.neural_network.MLPRegressor`, trained by deltarule's loop and
optimizers, for one or several outputs.

Parameters
----------
loss : str, default='squared_error'
    'squared_error' (half squared error, identity output), 'poisson' (half
    Poisson deviance with an exp output; needs y >= 0), or a deltarule
    regression loss name ('mae', 'huber', 'mse', ...) with an identity output.
{PARAMETERS}
{EXTRAS}

Attributes
----------
{ATTRIBUTES}

Notes
-----
{NOTES}

**Several outputs with** ``loss='squared_error'``. ``loss_`` (and
``loss_curve_``, ``best_loss_``) is the objective whose gradient both libraries
follow: the mean over samples of :math:`\\tfrac12\\sum_k (y_k - p_k)^2`, plus the
penalty (``validation_loss_curve_``: the same mean, without it). scikit-learn
reports the squared-error part divided by the number of outputs :math:`K` (the
penalty not). Three consequences:

* the stopping rule compares this figure with ``tol``, so with the same ``tol``
  training may stop at another epoch than scikit-learn's. With ``alpha=0`` the
  figure is exactly :math:`K` times scikit-learn's, and ``tol=K * t`` stops
  where scikit-learn's ``tol=t`` does;
* with ``alpha > 0`` scikit-learn's figure is not recoverable from ``loss_``
  (each batch's penalty enters it undivided);
* with ``solver='lbfgs'`` the fits differ: scikit-learn hands scipy its reported
  figure as the function value together with the gradient of the undivided
  objective (a mismatched pair for the line search), where this estimator
  minimises the objective its gradient belongs to.

Examples
--------
>>> from sklearn.datasets import load_diabetes
>>> from deltarule.sklearn import MLPRegressor
>>> X, y = load_diabetes(return_X_y=True)
>>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0).fit(X, y)
>>> reg.predict(X[:3]).shape
(3,)
"""
