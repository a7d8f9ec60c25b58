"""LightGBM models compiled once for exact, cheap tree SHAP.

`contributions` equals LightGBM's `pred_contrib` (path-dependent TreeSHAP, covers from the
training counts) at a fraction of its cost, and gives the raw score bit for bit on the way (the
trees' outputs added in LightGBM's order). TreeSHAP's per-row recursion is
O(trees x leaves x depth^2) with allocations per tree, whereas a leaf's contribution depends on
a row only through which of the features on its path the row agrees with (one bit per distinct
feature), and a whole tree's only through which way the row goes at each internal node. So
each leaf gets a table of its contributions for every agreement pattern, and each small tree
(at most MAX_TREE_BITS internal nodes) a table for every decision pattern, computed once when
the model is compiled; a row then costs one decision per internal node and one lookup per
small tree (or per leaf of a larger tree).

For a leaf with value v, distinct path features U (k of them), cover fractions z_j (the product
of child over parent counts along the path for feature j) and agreement bits o_j, the
Shapley value of feature i in the game g(S) = v prod_{j in S} o_j prod_{j in U \\ S} z_j is
    v (o_i - z_i) sum_{S subset of U\\{i}} |S|! (k-|S|-1)! / k! prod_{j in S} o_j
                                                  prod_{j in U\\S\\{i}} z_j,
which is what TreeSHAP computes for the leaf; summed over leaves and trees it gives the
contributions, and the trees' cover-weighted mean outputs give the bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Any

import numba
import numpy as np

# Decision kinds and LightGBM's missing-value types, as small integers for the compiled loops.
NUMERICAL, CATEGORICAL = 0, 1
MISSING = {"None": 0, "Zero": 1, "NaN": 2}
ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold
MAX_PATH_FEATURES = 24  # 2**k table rows per leaf: deeper paths would not fit in memory
MAX_TREE_BITS = 8  # trees with at most this many internal nodes get a whole-tree table
ROW_BLOCK = 256  # rows that share one pass over the trees


@dataclass(frozen=True)
class CompiledTrees:
    """A LightGBM model flattened into arrays, with its contribution tables."""

    n_features: int
    bias: float
    # internal nodes, all trees concatenated; tree t's are [tree_node_start[t], ...[t + 1])
    tree_node_start: np.ndarray
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_kind: np.ndarray
    node_missing: np.ndarray
    node_default_left: np.ndarray
    node_cat_start: np.ndarray
    node_cat_stop: np.ndarray
    categories: np.ndarray  # the category codes sent left, per categorical node
    # each node's children: a tree-local node, or -1 - (the leaf's global index)
    node_left: np.ndarray
    node_right: np.ndarray
    leaf_values: np.ndarray
    # small trees: the leaf value of every decision pattern, and a table of decision patterns
    # x the tree's features (start -1: none)
    tree_value_start: np.ndarray
    tree_values: np.ndarray
    tree_table_start: np.ndarray
    tree_feature_start: np.ndarray
    tree_features: np.ndarray
    tree_tables: np.ndarray
    # leaves of the larger trees (SHAP): path (tree-local node, direction, slot of its feature)
    tree_leaf_start: np.ndarray
    leaf_path_start: np.ndarray
    path_node: np.ndarray
    path_left: np.ndarray
    path_slot: np.ndarray
    leaf_slot_start: np.ndarray  # slots of a leaf: [leaf_slot_start[l], leaf_slot_start[l+1])
    slot_feature: np.ndarray
    leaf_table_start: np.ndarray  # rows of 2**k patterns x k slots
    leaf_tables: np.ndarray


def compile_booster(dump: dict[str, Any], num_iteration: int | None = None) -> CompiledTrees:
    """Flatten `Booster.dump_model()` (single-output models) into a `CompiledTrees`."""
    if dump.get("num_tree_per_iteration", 1) != 1:
        raise ValueError("only single-output LightGBM models are supported")
    trees = dump["tree_info"]
    if num_iteration is not None and num_iteration > 0:
        trees = trees[:num_iteration]
    builder = _Builder()
    for tree in trees:
        builder.add_tree(tree["tree_structure"])
    return builder.finish(len(dump["feature_names"]))


@dataclass
class _Leaf:
    index: int  # global leaf number (of `leaf_values`)
    value: float
    path: list[tuple[int, bool, int]]  # (tree-local node, went left, slot)
    features: list[int]  # the feature of each slot
    table: np.ndarray  # 2**k agreement patterns x k slots


class _Builder:
    """Collects the arrays of `CompiledTrees`, one tree at a time."""

    def __init__(self) -> None:
        self.bias = 0.0
        self.nodes: list[tuple[int, float, int, int, bool, int, int]] = []
        self.categories: list[int] = []
        self.tree_node_start: list[int] = []
        self.tree_table_start: list[int] = []
        self.tree_feature_start: list[int] = [0]
        self.tree_features: list[int] = []
        self.tree_tables: list[np.ndarray] = []
        self.table_size = 0
        self.tree_leaf_start: list[int] = []
        self.leaves: list[_Leaf] = []
        self.children: list[tuple[int, int]] = []
        self.leaf_values: list[float] = []
        self.tree_value_start: list[int] = []
        self.tree_values: list[np.ndarray] = []
        self.value_size = 0

    def add_tree(self, root: dict[str, Any]) -> None:
        self.tree_node_start.append(len(self.nodes))
        self.tree_leaf_start.append(len(self.leaves))
        if "leaf_value" in root:  # a tree without a split: one value, in a one-entry table
            self.bias += float(root["leaf_value"])
            self._small_tree(0, [_Leaf(-1, float(root["leaf_value"]), [], [], np.zeros((1, 0)))])
            return
        leaves: list[_Leaf] = []
        self._walk(root, [], float(root["internal_count"]), leaves)
        internal = len(self.nodes) - self.tree_node_start[-1]
        if internal <= MAX_TREE_BITS:
            self._small_tree(internal, leaves)
            return
        self.leaves += leaves
        self.tree_table_start.append(-1)
        self.tree_value_start.append(-1)
        self.tree_feature_start.append(len(self.tree_features))

    def _small_tree(self, internal: int, leaves: list[_Leaf]) -> None:
        """Tables over the decision patterns: the leaf value, and the contributions."""
        features = sorted({f for leaf in leaves for f in leaf.features})
        values, table = _tree_tables(internal, leaves, {f: i for i, f in enumerate(features)})
        self.tree_value_start.append(self.value_size)
        self.tree_values.append(values)
        self.value_size += values.size
        self.tree_table_start.append(self.table_size)
        self.tree_tables.append(table.ravel())
        self.table_size += table.size
        self.tree_features += features
        self.tree_feature_start.append(len(self.tree_features))

    def _node(self, node: dict[str, Any]) -> int:
        """Append an internal node; returns its tree-local index."""
        start = len(self.categories)
        if node["decision_type"] == "==":
            self.categories += [int(c) for c in str(node["threshold"]).split("||")]
            kind, threshold = CATEGORICAL, 0.0
        else:
            kind, threshold = NUMERICAL, float(node["threshold"])
        self.children.append((0, 0))  # set by `_walk` once the children are numbered
        self.nodes.append(
            (
                int(node["split_feature"]),
                threshold,
                kind,
                MISSING[node["missing_type"]],
                bool(node["default_left"]),
                start,
                len(self.categories),
            )
        )
        return len(self.nodes) - 1 - self.tree_node_start[-1]

    def _walk(
        self,
        node: dict[str, Any],
        path: list[tuple[int, bool, int, float]],
        total: float,
        leaves: list[_Leaf],
    ) -> int:
        """Depth first; `path` holds (local node, went left, feature, child/parent count).
        Returns the node's reference: its tree-local number, or -1 - its leaf number."""
        if "leaf_value" in node:
            value = float(node["leaf_value"])
            self.bias += value * float(node["leaf_count"]) / total
            index = len(self.leaf_values)
            self.leaf_values.append(value)
            leaves.append(_leaf(index, value, path))
            return -1 - index
        local = self._node(node)
        count = float(node["internal_count"])
        feature = int(node["split_feature"])
        refs = []
        for side, left in (("left_child", True), ("right_child", False)):
            child = node[side]
            child_count = float(child.get("internal_count", child.get("leaf_count", 0)))
            fraction = child_count / count if count > 0 else 0.0
            refs.append(
                self._walk(child, [*path, (local, left, feature, fraction)], total, leaves)
            )
        self.children[self.tree_node_start[-1] + local] = (refs[0], refs[1])
        return local

    def finish(self, n_features: int) -> CompiledTrees:
        nodes = list(zip(*self.nodes, strict=True)) if self.nodes else [[]] * 7
        self.tree_node_start.append(len(self.nodes))
        self.tree_leaf_start.append(len(self.leaves))
        path = [step for leaf in self.leaves for step in leaf.path]
        steps = list(zip(*path, strict=True)) if path else [[]] * 3
        tables = [leaf.table.ravel() for leaf in self.leaves]

        def ints(values: list[int]) -> np.ndarray:
            return np.asarray(values, np.int64)

        return CompiledTrees(
            n_features=n_features,
            bias=self.bias,
            tree_node_start=ints(self.tree_node_start),
            node_feature=ints(nodes[0]),
            node_threshold=np.asarray(nodes[1], np.float64),
            node_kind=np.asarray(nodes[2], np.int8),
            node_missing=np.asarray(nodes[3], np.int8),
            node_default_left=np.asarray(nodes[4], np.bool_),
            node_cat_start=ints(nodes[5]),
            node_cat_stop=ints(nodes[6]),
            categories=ints(self.categories),
            node_left=ints([left for left, _ in self.children]),
            node_right=ints([right for _, right in self.children]),
            leaf_values=np.asarray(self.leaf_values, np.float64),
            tree_value_start=ints(self.tree_value_start),
            tree_values=np.concatenate(self.tree_values) if self.tree_values else np.zeros(0),
            tree_table_start=ints(self.tree_table_start),
            tree_feature_start=ints(self.tree_feature_start),
            tree_features=ints(self.tree_features),
            tree_tables=np.concatenate(self.tree_tables) if self.tree_tables else np.zeros(0),
            tree_leaf_start=ints(self.tree_leaf_start),
            leaf_path_start=ints(np.cumsum([0, *(len(leaf.path) for leaf in self.leaves)])),
            path_node=ints(steps[0]),
            path_left=np.asarray(steps[1], np.bool_),
            path_slot=ints(steps[2]),
            leaf_slot_start=ints(np.cumsum([0, *(len(leaf.features) for leaf in self.leaves)])),
            slot_feature=ints([f for leaf in self.leaves for f in leaf.features]),
            leaf_table_start=ints(np.cumsum([0, *(t.size for t in tables)])),
            leaf_tables=np.concatenate(tables) if tables else np.zeros(0),
        )


def _leaf(index: int, value: float, path: list[tuple[int, bool, int, float]]) -> _Leaf:
    """A leaf's distinct path features, cover fractions and contribution table."""
    features: list[int] = []
    zero: list[float] = []
    steps = []
    for local, left, feature, fraction in path:
        if feature not in features:
            features.append(feature)
            zero.append(1.0)
        slot = features.index(feature)
        zero[slot] *= fraction
        steps.append((local, left, slot))
    if len(features) > MAX_PATH_FEATURES:
        raise ValueError(
            f"a leaf depends on {len(features)} features, more than the "
            f"{MAX_PATH_FEATURES} an exact contribution table can hold"
        )
    weights = _shapley_weights(len(features))
    table = leaf_table(np.asarray(zero, float), value, weights)
    return _Leaf(index, value, steps, features, table)


def _tree_tables(
    internal: int, leaves: list[_Leaf], column: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A small tree's leaf value and contributions (over its distinct features) for every
    decision pattern (bit j set: the row goes left at tree-local node j)."""
    values = np.zeros(1 << internal)
    out = np.zeros((1 << internal, len(column)))
    decisions = np.arange(1 << internal)
    for leaf in leaves:
        k = len(leaf.features)
        pattern = np.full(decisions.size, (1 << k) - 1)
        reached = np.ones(decisions.size, dtype=bool)
        for local, left, slot in leaf.path:
            disagree = ((decisions >> local) & 1).astype(bool) != left
            pattern[disagree] &= ~(1 << slot)
            reached &= ~disagree
        values[reached] = leaf.value
        columns = [column[f] for f in leaf.features]
        out[:, columns] += leaf.table[pattern]
    return values, out


def _shapley_weights(k: int) -> np.ndarray:
    """|S|! (k - |S| - 1)! / k! for |S| = 0 .. k - 1."""
    return np.array(
        [factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)], dtype=float
    )


@numba.njit(cache=True)
def leaf_table(zero: np.ndarray, value: float, weights: np.ndarray) -> np.ndarray:
    """Contributions of one leaf for every agreement pattern: rows are patterns (bit s set:
    the row agrees with the path on slot s's feature), columns the slots."""
    k = zero.size
    out = np.zeros((1 << k, k))
    elementary = np.zeros(k + 1)
    for pattern in range(1 << k):
        for s in range(k):
            # e_m of the z's of the agreeing slots other than s, and the product of the rest
            elementary[:] = 0.0
            elementary[0] = 1.0
            ones = 0
            rest = 1.0
            for j in range(k):
                if j == s:
                    continue
                if pattern >> j & 1:
                    ones += 1
                    for m in range(ones, 0, -1):
                        elementary[m] += elementary[m - 1] * zero[j]
                else:
                    rest *= zero[j]
            total = 0.0
            for t in range(ones + 1):
                total += weights[t] * elementary[ones - t]
            agree = 1.0 if pattern >> s & 1 else 0.0
            out[pattern, s] = value * (agree - zero[s]) * total * rest
    return out


@numba.njit(inline="always")
def _goes_left(
    value: float,
    threshold: float,
    kind: int,
    missing: int,
    default_left: bool,
    categories: np.ndarray,
    cat_start: int,
    cat_stop: int,
) -> bool:
    """LightGBM's decision at one node (tree.h: NumericalDecision, CategoricalDecision)."""
    if kind == CATEGORICAL:
        if np.isnan(value) or value < 0:
            return False
        code = int(value)
        for i in range(cat_start, cat_stop):
            if categories[i] == code:
                return True
        return False
    if np.isnan(value) and missing != 2:
        value = 0.0
    if (missing == 1 and -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD) or (
        missing == 2 and np.isnan(value)
    ):
        return default_left
    return value <= threshold


@numba.njit(parallel=True, cache=True)
def _evaluate(  # noqa: PLR0912, PLR0915 - one tight loop, kept whole for the compiler
    xt: np.ndarray,
    tree_node_start: np.ndarray,
    node_feature: np.ndarray,
    node_threshold: np.ndarray,
    node_kind: np.ndarray,
    node_missing: np.ndarray,
    node_default_left: np.ndarray,
    node_cat_start: np.ndarray,
    node_cat_stop: np.ndarray,
    categories: np.ndarray,
    node_left: np.ndarray,
    node_right: np.ndarray,
    leaf_values: np.ndarray,
    tree_value_start: np.ndarray,
    tree_values: np.ndarray,
    tree_table_start: np.ndarray,
    tree_feature_start: np.ndarray,
    tree_features: np.ndarray,
    tree_tables: np.ndarray,
    tree_leaf_start: np.ndarray,
    leaf_path_start: np.ndarray,
    path_node: np.ndarray,
    path_left: np.ndarray,
    path_slot: np.ndarray,
    leaf_slot_start: np.ndarray,
    slot_feature: np.ndarray,
    leaf_table_start: np.ndarray,
    leaf_tables: np.ndarray,
    margin: np.ndarray,
    out: np.ndarray,
) -> None:
    # Rows in blocks; within a block, trees in order (each row's outputs add up in LightGBM's
    # order), then each node's decision for every row (one column of `xt`, features x rows),
    # then each row's leaf and table lookups.
    n_rows, n_trees = xt.shape[1], tree_node_start.size - 1
    widest = 1
    for t in range(n_trees):
        widest = max(widest, tree_node_start[t + 1] - tree_node_start[t])
    n_blocks = (n_rows + ROW_BLOCK - 1) // ROW_BLOCK
    for block in numba.prange(n_blocks):
        start, stop = block * ROW_BLOCK, min(n_rows, (block + 1) * ROW_BLOCK)
        rows = stop - start
        decisions = np.zeros(ROW_BLOCK, np.int64)
        left = np.empty((widest, ROW_BLOCK), np.bool_)
        acc = np.zeros((out.shape[1], ROW_BLOCK))  # features x rows: contiguous row loops
        for t in range(n_trees):
            first, internal = tree_node_start[t], tree_node_start[t + 1] - tree_node_start[t]
            small = tree_value_start[t] >= 0
            decisions[:rows] = 0
            for local in range(internal):
                node = first + local
                column = xt[node_feature[node]]
                threshold = node_threshold[node]
                if node_kind[node] == NUMERICAL and node_missing[node] == 0:
                    # No missing type: NaN counts as 0. Branch-free, so the loop vectorises.
                    nan_left = 0.0 <= threshold
                    if small:
                        bit = np.int64(1) << local
                        for r in range(rows):
                            value = column[start + r]
                            if (value <= threshold) | (np.isnan(value) & nan_left):
                                decisions[r] |= bit
                    else:
                        for r in range(rows):
                            value = column[start + r]
                            left[local, r] = (value <= threshold) | (np.isnan(value) & nan_left)
                    continue
                for r in range(rows):
                    goes = _goes_left(
                        column[start + r],
                        threshold,
                        node_kind[node],
                        node_missing[node],
                        node_default_left[node],
                        categories,
                        node_cat_start[node],
                        node_cat_stop[node],
                    )
                    if small:
                        decisions[r] |= np.int64(goes) << local
                    else:
                        left[local, r] = goes
            if small:
                f_start = tree_feature_start[t]
                width = tree_feature_start[t + 1] - f_start
                for r in range(rows):
                    margin[start + r] += tree_values[tree_value_start[t] + decisions[r]]
                for j in range(width):
                    feature, base = tree_features[f_start + j], tree_table_start[t] + j
                    for r in range(rows):
                        acc[feature, r] += tree_tables[base + decisions[r] * width]
                continue
            for r in range(rows):
                node = 0
                while node >= 0:
                    node = node_left[first + node] if left[node, r] else node_right[first + node]
                margin[start + r] += leaf_values[-1 - node]
            # Larger trees, leaf by leaf: each row's agreement pattern, then its table row.
            for leaf in range(tree_leaf_start[t], tree_leaf_start[t + 1]):
                slots = leaf_slot_start[leaf]
                k = leaf_slot_start[leaf + 1] - slots
                decisions[:rows] = (1 << k) - 1
                for p in range(leaf_path_start[leaf], leaf_path_start[leaf + 1]):
                    node, want = path_node[p], path_left[p]
                    clear = ~(np.int64(1) << path_slot[p])
                    for r in range(rows):
                        if left[node, r] != want:
                            decisions[r] &= clear
                base = leaf_table_start[leaf]
                for s in range(k):
                    feature = slot_feature[slots + s]
                    for r in range(rows):
                        acc[feature, r] += leaf_tables[base + decisions[r] * k + s]
        out[start:stop] = acc[:, :rows].T


def contributions(trees: CompiledTrees, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raw score of each row of `x` (LightGBM's input matrix) and its SHAP values, the
    bias as the last column: exactly `Booster.predict(x, raw_score=True)` and
    `Booster.predict(x, pred_contrib=True)`."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != trees.n_features:
        raise ValueError(f"expected a matrix of {trees.n_features} features, got {x.shape}")
    margin = np.zeros(x.shape[0])
    out = np.zeros((x.shape[0], trees.n_features + 1))
    _evaluate(
        np.ascontiguousarray(x.T),
        trees.tree_node_start,
        trees.node_feature,
        trees.node_threshold,
        trees.node_kind,
        trees.node_missing,
        trees.node_default_left,
        trees.node_cat_start,
        trees.node_cat_stop,
        trees.categories,
        trees.node_left,
        trees.node_right,
        trees.leaf_values,
        trees.tree_value_start,
        trees.tree_values,
        trees.tree_table_start,
        trees.tree_feature_start,
        trees.tree_features,
        trees.tree_tables,
        trees.tree_leaf_start,
        trees.leaf_path_start,
        trees.path_node,
        trees.path_left,
        trees.path_slot,
        trees.leaf_slot_start,
        trees.slot_feature,
        trees.leaf_table_start,
        trees.leaf_tables,
        margin,
        out,
    )
    out[:, -1] = trees.bias
    return margin, out
