"""Keep marketer-written segment SQL harmless: one boolean expression over known columns.

A predicate is parsed with sqlglot (DuckDB dialect) and walked node by node against an
allow-list of expression types and functions. Anything not on the list is refused: a second
statement, a subquery, a table or schema reference, a file/network/extension function
(``read_csv``, ``glob``, ``getenv``, ``query``, ``COPY``, ``ATTACH``, ``INSTALL``…), a
parameter, ``current_date`` (a predicate must use ``as_of_date`` so a rerun of an old day
gives that day's answer). The SQL that runs is the one regenerated from the checked tree,
with every identifier quoted, never the text the user typed.

This is the first of two fences: ``evaluate`` then runs the regenerated SQL in an in-memory
DuckDB connection with external access disabled and its configuration locked.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError


class UnsafePredicateError(ValueError):
    """A segment predicate that may not run; the message names the segment and the problem."""

    def __init__(self, segment: str, problem: str):
        self.segment = segment
        self.problem = problem
        super().__init__(f"segment {segment!r}: {problem}")


# Nodes whose value is a boolean: the operators and predicates a segment is made of.
_BOOLEAN_NODES: tuple[type, ...] = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Xor,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Boolean,
    exp.StartsWith,
    exp.EndsWith,
    exp.Contains,
    exp.RegexpLike,
    exp.ArrayContains,
    exp.ArrayOverlaps,
)
# Everything a boolean expression over one row may hold: the boolean nodes and the structure,
# arithmetic and pure scalar functions beneath them.
_ALLOWED_NODES: tuple[type, ...] = _BOOLEAN_NODES + (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Paren,
    exp.Tuple,
    exp.Array,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.IntDiv,
    exp.Mod,
    exp.Neg,
    exp.DPipe,
    exp.Interval,
    exp.Cast,
    exp.TryCast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Case,
    exp.If,
    exp.Coalesce,
    # Pure scalar functions (sqlglot gives each its own class).
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Trim,
    exp.Substring,
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Greatest,
    exp.Least,
    exp.DateDiff,
    exp.DateAdd,
    exp.DateSub,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.Extract,
    exp.Year,
    exp.Month,
    exp.ArraySize,
)
# Functions sqlglot does not know by class (exp.Anonymous) that return a boolean, and all those
# allowed by name.
_BOOLEAN_ANONYMOUS = frozenset(
    {
        "list_has_all",
        "array_has_all",
        "list_has_any",
        "array_has_any",
        "list_contains",
        "array_contains",
        "ends_with",
        "prefix",
        "suffix",
    }
)
ALLOWED_ANONYMOUS_FUNCTIONS = _BOOLEAN_ANONYMOUS | {"len", "date_diff", "datediff"}
# Keyword-like arguments (interval and date-part units) are sqlglot Vars.
_VAR_PARENTS = (exp.Interval, exp.DateDiff, exp.DateAdd, exp.DateSub, exp.DateTrunc, exp.TimestampTrunc, exp.Extract)
_STATEMENTS: tuple[type, ...] = tuple(
    getattr(exp, n)
    for n in (
        "Query",
        "DDL",
        "DML",
        "Command",
        "Copy",
        "Attach",
        "Detach",
        "Use",
        "Set",
        "Pragma",
        "Transaction",
        "Commit",
        "Rollback",
        "Install",
        "Describe",
        "Summarize",
    )
    if hasattr(exp, n)
)


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__.lower()


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Func):
        return f"function {_function_name(node)}()"
    return f"{type(node).__name__} ({node.sql(dialect='duckdb')[:60]})"


def _check_node(segment: str, node: exp.Expression, columns: Mapping[str, str | None]) -> None:
    if isinstance(node, exp.Exists) or (node.parent is not None and isinstance(node, (exp.Subquery, exp.Query))):
        raise UnsafePredicateError(segment, "subqueries are not allowed: a predicate sees one row of golden.customers")
    if isinstance(node, _STATEMENTS):
        raise UnsafePredicateError(
            segment, f"a statement ({node.key.upper()}) is not allowed: a predicate is one boolean expression"
        )
    if isinstance(node, exp.Table):
        raise UnsafePredicateError(
            segment,
            f"reference to table {node.sql(dialect='duckdb')!r} is "
            "not allowed: only golden.customers' columns may be used",
        )
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        raise UnsafePredicateError(segment, "parameters are not allowed")
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise UnsafePredicateError(
                segment,
                f"qualified name {node.sql(dialect='duckdb')!r} is not "
                "allowed: other tables and schemas are out of reach",
            )
        if isinstance(node.this, exp.Star):
            raise UnsafePredicateError(segment, "'*' is not allowed")
        name = str(node.name).lower()
        if name not in columns:
            raise UnsafePredicateError(
                segment, f"unknown column {name!r} (not a column of golden.customers or a helper column)"
            )
        return
    if isinstance(node, exp.Var):
        if isinstance(node.parent, _VAR_PARENTS):
            return
        raise UnsafePredicateError(segment, f"unexpected keyword {node.name!r}")
    if isinstance(node, exp.Anonymous):
        if _function_name(node) in ALLOWED_ANONYMOUS_FUNCTIONS:
            return
        raise UnsafePredicateError(segment, f"function {_function_name(node)}() is not allowed")
    if isinstance(node, exp.Identifier) and not isinstance(node.parent, (exp.Column, exp.DataType)):
        raise UnsafePredicateError(segment, f"unexpected identifier {node.name!r}")
    if not isinstance(node, _ALLOWED_NODES):
        if isinstance(node, (exp.CurrentDate, exp.CurrentTimestamp)):
            raise UnsafePredicateError(
                segment,
                f"{_describe(node)} is not allowed: use as_of_date so a rerun of an old day gives that day's answer",
            )
        what = _describe(node)
        raise UnsafePredicateError(segment, f"{what} is not allowed in a predicate")


def _is_boolean(node: exp.Expression, columns: Mapping[str, str | None]) -> bool | None:
    """True/False when the tree says so; None when only the database can tell (untyped column)."""
    if isinstance(node, exp.Paren):
        return _is_boolean(node.this, columns)
    if isinstance(node, _BOOLEAN_NODES):
        return True
    if isinstance(node, exp.Anonymous):
        return _function_name(node) in _BOOLEAN_ANONYMOUS
    if isinstance(node, exp.Column):
        t = columns.get(str(node.name).lower())
        return None if t is None else t.upper() == "BOOLEAN"
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.is_type(exp.DataType.Type.BOOLEAN)
    if isinstance(node, (exp.Case, exp.If, exp.Coalesce)):
        branches = []
        if isinstance(node, exp.Case):
            branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
        elif isinstance(node, exp.If):
            branches = [node.args.get("true"), node.args.get("false")]
        else:
            branches = [node.this, *(node.expressions or [])]
        answers = [_is_boolean(b, columns) for b in branches if b is not None and not isinstance(b, exp.Null)]
        if any(a is False for a in answers) or not answers:
            return False
        return None if any(a is None for a in answers) else True
    return False


def guard_predicate(segment: str, predicate: str, columns: Mapping[str, str | None]) -> str:
    """The predicate as safe DuckDB SQL, or ``UnsafePredicateError`` saying what is wrong.

    ``columns`` maps each usable column name (lower case) to its DuckDB type name, or None
    when the type is unknown (the sandbox then checks the result type itself).
    """
    return guard_predicate_columns(segment, predicate, columns)[0]


def guard_predicate_columns(
    segment: str, predicate: str, columns: Mapping[str, str | None]
) -> tuple[str, frozenset[str]]:
    """``guard_predicate``, and the columns (lower case) the predicate reads: every column it
    can reach is a checked, unqualified column node of the tree, so the sandbox need hold no other."""
    try:
        return _guard_predicate_columns(segment, predicate, columns)
    except RecursionError:
        # sqlglot parses, walks and writes a tree recursively: some 50 nested parentheses exhaust
        # Python's stack. Uncaught, that error would fail the whole segments step, not this segment.
        raise UnsafePredicateError(segment, "the predicate is nested too deeply") from None


def _guard_predicate_columns(
    segment: str, predicate: str, columns: Mapping[str, str | None]
) -> tuple[str, frozenset[str]]:
    columns = {k.lower(): v for k, v in columns.items()}
    if not predicate or not predicate.strip():
        raise UnsafePredicateError(segment, "the predicate is empty")
    try:
        trees = [t for t in sqlglot.parse(predicate, read="duckdb") if t is not None]
    except (ParseError, TokenError) as e:
        raise UnsafePredicateError(segment, f"the predicate does not parse: {str(e).splitlines()[0]}") from None
    if len(trees) != 1:
        raise UnsafePredicateError(segment, f"a predicate is one boolean expression; found {len(trees)} statements")
    tree = trees[0]
    for node in tree.walk():
        _check_node(segment, node, columns)
    if _is_boolean(tree, columns) is False:
        raise UnsafePredicateError(
            segment, f"not a boolean expression: {tree.sql(dialect='duckdb')!r} computes a value, not true/false"
        )
    used = frozenset(str(node.name).lower() for node in tree.find_all(exp.Column))
    return tree.sql(dialect="duckdb", identify=True), used
