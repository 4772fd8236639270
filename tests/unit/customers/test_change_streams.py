"""One live change stream's queue: bounded (a reader that does not read is dropped), and a resumed stream sends
what the hub offered during its replay only past the replay's last position."""

from __future__ import annotations

from uuid import uuid4

from application.customers.change_streams import ChangeStream, EndOfStream, Frame
from domain.customer_events import EventPosition
from domain.sign_in import Actor

START = EventPosition(1, 1)


def _stream(*, replay: bool = False, max_queued: int = 3) -> ChangeStream:
    actor = Actor(uuid4(), "Clara Clerk", is_admin=False, session_id=uuid4())
    return ChangeStream(actor, "token", None, START, replay=replay, max_queued=max_queued, checked_at=0.0)


def _frames(*positions: tuple[int, int]) -> list[Frame]:
    return [Frame(EventPosition(*position), f"{position}".encode()) for position in positions]


async def test_frames_are_sent_in_order_and_the_position_follows() -> None:
    stream = _stream()
    stream.offer(_frames((2, 2), (2, 3)))
    stream.offer(_frames((3, 4)))

    assert [frame.position for frame in await stream.next(1)] == [(2, 2), (2, 3), (3, 4)]
    assert stream.position == EventPosition(3, 4)
    assert await stream.next(0.01) == []


async def test_a_reader_that_falls_behind_is_dropped_not_buffered_for() -> None:
    stream = _stream(max_queued=3)
    stream.offer(_frames((2, 2), (3, 3)))
    stream.offer(_frames((4, 4), (5, 5)))

    assert stream.ended is EndOfStream.SLOW_READER
    assert await stream.next(1) == []
    # Nothing more is kept for it.
    stream.offer(_frames((6, 6)))
    assert await stream.next(0.01) == []


async def test_a_resumed_stream_sends_what_was_offered_meanwhile_only_past_its_replay() -> None:
    stream = _stream(replay=True, max_queued=10)
    # The hub fetched these while the replay was still reading: some of them the replay sends itself.
    stream.offer(_frames((4, 4), (5, 5), (6, 6)))
    stream.position = EventPosition(5, 5)  # where the replay got to
    stream.caught_up()

    assert [frame.position for frame in await stream.next(1)] == [(6, 6)]
    assert not stream.replaying


async def test_an_ended_stream_says_why_once() -> None:
    stream = _stream()
    stream.end(EndOfStream.ACCESS)
    stream.end(EndOfStream.SHUTDOWN)

    assert stream.ended is EndOfStream.ACCESS
    assert await stream.next(1) == []
