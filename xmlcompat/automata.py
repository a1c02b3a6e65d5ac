"""Content models as deterministic automata over element names.

A content particle becomes a Glushkov (position) automaton: occurrence bounds are unrolled
(`a{2,4}` → `a a (a (a)?)?`; unbounded → a star), each reference to a substitution-group head
becomes one position per member, wildcards are positions matching a namespace class. States
are sets of positions (Unique Particle Attribution makes them singletons in valid schemas;
the subset construction makes the rare exceptions harmless). `all` groups are automata whose
state is the set of children seen. States are built lazily, so only what a product search
reaches is ever made.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from xmlcompat.model import Element, Particle, Wildcard, split, substitutes

MAX_POSITIONS = 5000          # beyond this unrolled size the model is reported as too large


class TooLarge(Exception):
    """The content model is too large to unroll (the verdict becomes "unknown")."""


@dataclass(frozen=True, eq=False)
class Leaf:
    pos: int
    element: Element | None
    wildcard: Wildcard | None

    def matches(self, qname: str) -> bool:
        if self.element is not None:
            return self.element.name == qname
        return self.wildcard.accepts(split(qname)[0])


class _Glushkov:
    def __init__(self, model, particle: Particle | None):
        self.model = model
        self.leaves: list[Leaf] = []
        self.follow: list[set[int]] = []
        if particle is None:
            self.nullable, self.first, self.last = True, set(), set()
        else:
            size = _estimate(particle)
            if size > MAX_POSITIONS:
                raise TooLarge(f"content model of {size} positions when unrolled "
                               f"(more than {MAX_POSITIONS}: occurrence bounds too large)")
            self.nullable, self.first, self.last = self._build(particle)

    def _leaf(self, element=None, wildcard=None):
        if len(self.leaves) >= MAX_POSITIONS:
            raise TooLarge(f"content model larger than {MAX_POSITIONS} positions when unrolled")
        leaf = Leaf(len(self.leaves), element, wildcard)
        self.leaves.append(leaf)
        self.follow.append(set())
        return leaf.pos

    # each _build returns (nullable, first, last) and adds follow edges
    def _build(self, p: Particle):
        lo, hi = p.min, p.max
        if hi == 0:
            return True, set(), set()
        parts = [self._once(p) for _ in range(max(lo, 1))]
        if lo == 0:                       # the first copy is optional
            _, f, la = parts[0]
            parts[0] = (True, f, la)
        if hi is None:
            # the last copy repeats: its last positions are followed by its first ones
            _, f, la = parts[-1]
            for q in la:
                self.follow[q] |= f
        elif hi > max(lo, 1):
            extra = [self._once(p) for _ in range(hi - max(lo, 1))]
            # nested optionals: each extra copy may follow only the previous one
            nested = None
            for part in reversed(extra):
                _, f, la = part
                if nested is not None:
                    _, nf, nl = nested
                    for q in la:
                        self.follow[q] |= nf
                    la = la | nl
                nested = (True, f, la)
            parts.append(nested)
        return self._concat(parts)

    def _concat(self, parts):
        nullable, first, last = True, set(), set()
        for n, f, la in parts:
            for q in last:
                self.follow[q] |= f
            if nullable:
                first = first | f
            last = (last | la) if n else set(la)
            nullable = nullable and n
        return nullable, first, last

    def _once(self, p: Particle):
        if p.kind == "element":
            decls = substitutes(self.model, p.element)
            if not decls:
                return False, set(), set()
            pos = {self._leaf(element=d) for d in decls}
            return False, pos, set(pos)
        if p.kind == "any":
            pos = self._leaf(wildcard=p.wildcard)
            return False, {pos}, {pos}
        if p.kind == "sequence":
            return self._concat([self._build(c) for c in p.children])
        if p.kind == "choice":
            nullable, first, last = not p.children, set(), set()
            for c in p.children:
                n, f, la = self._build(c)
                nullable, first, last = nullable or n, first | f, last | la
            return nullable, first, last
        raise TooLarge(f"an 'all' group nested inside a {p.kind} (not XSD 1.0)")


def _estimate(p: Particle) -> int:
    """Positions the unrolled particle will have (substitution groups counted as one)."""
    copies = max(p.min, 1) if p.max is None else max(p.max, 1)
    if p.kind in ("element", "any"):
        return copies
    return copies * max(1, sum(_estimate(c) for c in p.children))


START = frozenset([-1])


class Automaton:
    """Deterministic (subset) automaton of one content particle; states are frozensets."""

    def __init__(self, model, particle: Particle | None):
        self.all_group = particle is not None and particle.kind == "all"
        if self.all_group:
            self._all = particle
            self._all_decls = [substitutes(model, c.element) if c.kind == "element" else []
                               for c in particle.children]
            return
        g = _Glushkov(model, particle)
        self.g = g
        self._steps: dict = {}
        self._index: dict = {}

    @property
    def start(self):
        return frozenset() if self.all_group else START

    def _next(self, state) -> list[Leaf]:
        if self.all_group:
            return [Leaf(i, d, None) for i, decls in enumerate(self._all_decls)
                    if i not in state for d in decls]
        g = self.g
        if state == START:
            return [g.leaves[p] for p in sorted(g.first)]
        out: set[int] = set()
        for p in state:
            out |= g.follow[p]
        return [g.leaves[p] for p in sorted(out)]

    def final(self, state) -> bool:
        if self.all_group:
            if not state and self._all.min == 0:
                return True
            return all(i in state or c.min == 0 for i, c in enumerate(self._all.children))
        if state == START:
            return self.g.nullable
        return bool(state & self.g.last)

    def symbols(self, state) -> tuple[list[Leaf], list[Wildcard]]:
        """(element leaves, wildcards) that may come next."""
        nxt = self._next(state)
        return ([leaf for leaf in nxt if leaf.element is not None],
                [leaf.wildcard for leaf in nxt if leaf.wildcard is not None])

    def step(self, state, qname: str):
        """(next state, leaf) for an element named `qname`, or None if not allowed here."""
        if self.all_group:
            if self._all.max == 0:
                return None
            for leaf in self._next(state):
                if leaf.element.name == qname:
                    return state | {leaf.pos}, leaf
            return None
        key = (state, qname)
        if key not in self._steps:
            index = self._index.get(state)
            if index is None:
                index = self._index[state] = ({}, [])
                for leaf in self._next(state):
                    if leaf.element is not None:
                        index[0].setdefault(leaf.element.name, []).append(leaf)
                    else:
                        index[1].append(leaf)
            # an element declaration wins over a wildcard (UPA forbids real competition)
            chosen = index[0].get(qname) or [leaf for leaf in index[1] if leaf.matches(qname)]
            self._steps[key] = (frozenset(leaf.pos for leaf in chosen), chosen[0]) if chosen else None
        return self._steps[key]

    def shortest_completion(self, state, cost) -> list | None:
        """The cheapest [(leaf, qname)] leading from `state` to a final state. `cost(leaf)`
        gives (weight, qname) for a child (a wildcard is instantiated with some name) or None
        when the child cannot be generated. None when no final state is reachable."""
        heap = [(0, 0, state, ())]
        seen = set()
        counter = 1
        while heap:
            total, _, st, path = heapq.heappop(heap)
            if st in seen:
                continue
            seen.add(st)
            if self.final(st):
                return list(path)
            for leaf in self._next(st):
                c = cost(leaf)
                if c is None:
                    continue
                weight, qname = c
                nxt = self.step(st, qname)
                if nxt is None or nxt[0] in seen:
                    continue
                heapq.heappush(heap, (total + weight, counter, nxt[0], path + ((leaf, qname),)))
                counter += 1
        return None
