"""The validation mode's run loop: a Poisson stream of single-person rooms, no retries.

In validation mode (``demand.kind: poisson``) every arrival is a room of one: its request goes
through the platform's front end, the dispatcher places the room, the node admits it or
refuses it for capacity, and the room closes after its holding time. With no retries, no
faults and no policies, nothing else happens, so the general machinery (a stream merged into
SimPy, a scheduled callback per front-end outcome and per room end, the attempt state
machines of ``sim.behaviour``) can be replaced by one loop over the pre-sampled arrivals:

- the front end's outcomes are computed for all arrivals before the next SimPy event (the
  per-interval sampler) at once, by :meth:`RequestQueue.request_batch` when the front end is
  unsaturated, else request by request;
- the model's own dispatcher and node pool admit and release rooms, in time order, from a
  heap of room ends merged with the arrivals; a front-end completion that is due before
  anything else is handled at once instead of being scheduled;
- the sampler stays a SimPy event on the same environment and sees the same state.

Events happen in the order of the general path (SimPy events before stream entries at the
same instant; the sampler before the model's callbacks), the same random draws are used in
the same order, so results are bit-identical to it; ``tests/unit/test_validation_mode.py``
compares the two. See PERFORMANCE-NOTES.md for why this matters (the loss-system target).
"""

from __future__ import annotations

import heapq
from array import array
from typing import TYPE_CHECKING

import numpy as np

from sim.behaviour import M_CLOSED, M_FAILED, M_OPEN, M_OPENING
from sim.events import _Call
from sim.metrics import Code

if TYPE_CHECKING:
    from sim.behaviour import Behaviour
    from sim.components.conference import NodePool
    from sim.components.dispatcher import Dispatcher
    from sim.model import _Model


def applies(model: _Model) -> bool:
    """Whether the scenario is a validation run this loop reproduces exactly."""
    sc = model.sc
    return (
        sc.demand.kind == "poisson"
        and sc.demand.poisson is not None
        and not sc.behaviour.retries
        and not sc.faults
        and not sc.policies.scale_up
        and model.beh._limiter is None
        and model.demand.n_pm == 0
        and model.demand.login_t.size == 0
        and not model.demand.m_teacher_cam.any()
        and not model.demand.m_screen.any()
        and bool(np.all(np.diff(model.demand.m_teacher_t) >= 0))
        # the loop checks participants and bandwidth only: no node may have a CPU limit
        and all(bool(np.isinf(pl.pool.cap_cpu).all()) for pl in model.platforms)
    )


def run(model: _Model, until: float) -> int:
    """Run the validation stream up to ``until``; returns the number of arrivals."""
    env = model.env
    beh = model.beh
    d = model.demand
    ts_arr = d.m_teacher_t
    n = int(ts_arr.size)
    n_until = int(np.searchsorted(ts_arr, until, side="right"))
    p = int(model.meeting_platform[0]) if n else 0
    plat = model.platforms[p]
    fe, pool, disp = plat.frontend, plat.pool, plat.dispatcher
    svc = fe.join_service_s
    ts = ts_arr.tolist()
    hold = d.m_hold.tolist()
    d_join = beh._load(1, 0, False) - beh._load(0, 0, False)
    d_close = beh._load(1, 0, False)
    m_state, m_open_t = beh.m_state, beh.m_open_t
    m_node = beh.m_node
    c = model.rec.channel
    join_ok, gave_up = c(Code.JOIN_OK)[p].append, c(Code.GAVE_UP)[p].append
    fail_fe, fail_disp = c(Code.FAIL_FRONTEND)[p].append, c(Code.FAIL_DISPATCH)[p].append
    fail_cap = c(Code.FAIL_CAPACITY)[p].append
    place, admit, release, close = disp.place, pool.try_admit, pool.release, disp.close
    session_s = beh.session_s
    session_p = beh.session_s_platform[p]
    queue = env._queue
    pop, push = heapq.heappop, heapq.heappush
    call = _Call
    inf = float("inf")
    # (time, seq, m): the front end's outcome for room m; (time, seq, ~m): room m ends.
    # Ties in time go by scheduling order (seq), as SimPy's event ids.
    heap: list[tuple[float, int, int]] = []
    seq = 0
    fe_failed = bytearray(n)
    pending = 0  # front-end outcomes in the heap
    one_node = pool.n_nodes == 1
    rec_p = (c(Code.JOIN_OK)[p], c(Code.FAIL_CAPACITY)[p], c(Code.GAVE_UP)[p])
    t_ev: list[float] = []  # front-end outcome time of arrival lo + k (the current chunk)
    lo = hi = 0  # arrivals lo..hi-1 have been through the front end
    i = 0
    while True:
        t_env = queue[0][0] if queue else inf
        if i == hi and i < n_until:
            # the front end for every arrival before the next SimPy event (which may look at
            # the front end's state)
            hi = min(int(np.searchsorted(ts_arr, t_env, side="left")), n_until)
            lo = i
            if hi > lo:
                # (a few arrivals: numpy's call overhead would exceed the work)
                done = fe.request_batch(ts_arr[lo:hi], svc) if hi - lo >= 16 else None
                if done is not None:
                    t_now = ts_arr[lo:hi]
                    delay = done - t_now
                    te_arr = t_now + np.where(delay > 0.0, delay, 0.0)
                    if (
                        one_node
                        and pending == 0
                        and pool._up[0]
                        and te_arr[-1] < t_env
                        and te_arr[-1] <= until
                        and bool(np.all(te_arr[:-1] <= ts_arr[lo + 1 : hi]))
                    ):
                        # each outcome is due before the next arrival: the chunk's rooms
                        # in one pass
                        seq, session_s, session_p = _one_node_chunk(
                            beh, pool, disp, rec_p, lo, te_arr.tolist(), hold, d_join,
                            d_close, heap, seq, session_s, session_p)
                        i = hi
                        continue
                    t_ev = te_arr.tolist()
                else:
                    t_ev = []
                    request = fe.request
                    for k in range(lo, hi):
                        t = ts[k]
                        env._now = t
                        ok, t1 = request(svc)
                        t_ev.append(t + (t1 - t if t1 - t > 0.0 else 0.0))
                        if not ok:
                            fe_failed[k] = 1
        t_heap = heap[0][0] if heap else inf
        t_sim = t_env if t_env < t_heap else t_heap
        if i < hi and ts[i] < t_sim:
            # an arrival: its front-end outcome is due at t_ev[i - lo]
            te = t_ev[i - lo]
            m = i
            i += 1
            if not (te < t_sim and te <= until and (i >= n or te <= ts[i])):
                push(heap, (te, seq, m))
                seq += 1
                pending += 1
                continue
            # else due before anything else: handled now
        elif t_sim > until:
            break
        elif t_env <= t_heap:
            if type(queue[0][3]) is call:
                env._now, _, _, ev = pop(queue)
                ev._fn(ev._arg)
            else:
                env.step()
            continue
        else:
            te, _, m = pop(heap)
            if m < 0:  # a room ends
                m = ~m
                env._now = te
                node = m_node[m]
                release(node, 1, d_close)
                close(node)
                dt = te - m_open_t[m]
                session_s += dt
                session_p += dt
                m_state[m] = M_CLOSED
                continue
            pending -= 1
        # the front end's outcome for room m at te
        env._now = te
        if fe_failed[m]:
            fail_fe(te)
            gave_up(te)
            m_state[m] = M_FAILED
            continue
        node = place()
        if node < 0:
            fail_disp(te)
            gave_up(te)
            m_state[m] = M_FAILED
            continue
        if not admit(node, d_join):
            fail_cap(te)
            gave_up(te)
            close(node)
            m_state[m] = M_FAILED
            continue
        join_ok(te)
        m_node[m] = node
        m_open_t[m] = te
        m_state[m] = M_OPEN
        h = hold[m]
        push(heap, (te + (h if h > 0.0 else 0.0), seq, ~m))
        seq += 1
    env._now = until
    for _, _, m in heap:
        if m >= 0:
            m_state[m] = M_OPENING  # arrived, the front end's answer not in yet
    beh.session_s = session_s
    beh.session_s_platform[p] = session_p
    c(Code.ATTEMPT)[p].frombytes(ts_arr[:i].tobytes())
    return n


def _one_node_chunk(
    beh: Behaviour,
    pool: NodePool,
    disp: Dispatcher,
    rec_p: tuple[array, array, array],
    lo: int,
    t_ev: list[float],
    hold: list[float],
    d_join: float,
    d_close: float,
    heap: list[tuple[float, int, int]],
    seq: int,
    session_s: float,
    session_p: float,
) -> tuple[int, float, float]:
    """Rooms lo, lo+1, ... whose front-end outcomes (all successful) fall at ``t_ev``, each
    before the next arrival, on a pool of one node: the room ends due by each outcome, then
    the dispatcher's placement and the node's admission, as ``Dispatcher.place``/``close``
    and ``NodePool.try_admit``/``release`` do them, on local copies of their state."""
    m_state, m_open_t, m_node = beh.m_state, beh.m_open_t, beh.m_node
    join_ok, fail_cap, gave_up = (a.append for a in rec_p)
    pop, push = heapq.heappop, heapq.heappush
    # Every room holds one participant on the one node, so the node's participants, the
    # pool's and the shared totals and the dispatcher's meeting count all move together:
    # track the node's count (and its highest value) and apply the change at the end.
    p0 = p_n = pool._p[0]
    p_max = p_n
    load = pool._load[0]
    ld_max = -1.0
    cap_p, cap_b = pool._cap_p[0], pool._cap_b[0]
    n_joins0 = len(rec_p[0])
    m = lo
    for te in t_ev:
        while heap and heap[0][0] <= te:  # rooms ending first (scheduled earlier: ties too)
            t_end, _, k = pop(heap)
            k = ~k
            # NodePool.release(0, 1, d_close); Dispatcher.close(0)
            p_n -= 1
            v = load - d_close
            load = v if v > 1e-9 else 0.0
            dt = t_end - m_open_t[k]
            session_s += dt
            session_p += dt
            m_state[k] = M_CLOSED
        # Dispatcher.place(): the only node, up; NodePool.try_admit(0, d_join)
        pn = p_n + 1
        ld = load + d_join
        if pn > cap_p or ld > cap_b:
            fail_cap(te)  # refused: the room is given up (the dispatcher's count undone)
            gave_up(te)
            m_state[m] = M_FAILED
            m += 1
            continue
        p_n = pn
        if pn > p_max:
            p_max = pn
        load = ld
        if ld > ld_max:
            ld_max = ld
        join_ok(te)
        m_node[m] = 0
        m_open_t[m] = te
        m_state[m] = M_OPEN
        h = hold[m]
        push(heap, (te + (h if h > 0.0 else 0.0), seq, ~m))
        seq += 1
        m += 1
    admitted = len(rec_p[0]) - n_joins0
    refused = len(t_ev) - admitted
    delta, rise = p_n - p0, p_max - p0
    sh = pool.shared
    pool._p[0], pool._load[0] = p_n, load
    pool.meetings[0] += delta
    pool._joins[0] += admitted
    pool.admitted += admitted
    pool.refused += refused
    pool.peak_participants = max(pool.peak_participants, pool.total_participants + rise)
    pool.total_participants += delta
    sh.peak = max(sh.peak, sh.now + rise)
    sh.now += delta
    if admitted:
        # the highest utilisation any admission reached (division is monotone)
        pool.peak_utilisation = max(pool.peak_utilisation, p_max / cap_p, ld_max / cap_b)
    return seq, session_s, session_p
