"""Kiosk mode: the app unattended at an exhibition (``python -m demo --kiosk [--config FILE.toml]``).

The App hands the kiosk each frame's pygame events before routing them (``screen``), and calls
``tick`` once per frame and ``draw`` over the frame. The kiosk:

- drops what a visitor must not do: close the window, quit (Ctrl+Q), leave fullscreen, drop files;
- watches for the operator's exit chord (e.g. ctrl+alt+q) held for ``chord_seconds``;
- after ``reset_seconds`` without input saves an unattended picture that has strokes, then clears it;
  after ``idle_seconds`` starts the attract loop; the first touch, click or button ends it with a
  fresh start for the visitor;
- hides an idle mouse cursor, and shows big hints and a 'saved' confirmation, with a QR code of the
  picture's gallery page after a visitor's save (``take_home``);
- counts visits (a wake after the attract loop or a reset, to the next reset or attract), strokes and saves.

It sees the app through ``KioskHost`` (clock, UI state, the action path, save) and the parts it drives
(the input router, the edit controller); everything it does to the edit goes through the app's own action
path (``host.on_action``, ``router.act``); the decisions themselves are pure (``policy``).
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from typing import Callable

import pygame

from demo.app.edit.feeder import SOURCE as FEED_SOURCE
from demo.app.kiosk.attract import AttractLoop, load_attract_sessions
from demo.app.kiosk.config import MODIFIERS, KioskConfig
from demo.app.kiosk.host import KioskHost
from demo.app.kiosk.take_home import TakeHome
from demo.app.kiosk.policy import (
    ATTRACT,
    RESET,
    WAKE,
    ChordWatch,
    CursorHider,
    IdlePolicy,
)
from demo.app.render.views.kiosk_hints import HintState, KioskHintsView
from demo.input import keyboard
from demo.input.actions import Action, Brush

SAVED_SECONDS = 3.0  # how long the 'saved' confirmation stays
BLOCKED_EVENTS = {pygame.QUIT, pygame.WINDOWCLOSE, pygame.DROPFILE, pygame.DROPTEXT, pygame.DROPBEGIN,
                  pygame.DROPCOMPLETE}
BLOCKED_ACTIONS = {"quit", "toggle_fullscreen", "load_photo"}  # the visitor cannot quit, leave fullscreen or open files
MODIFIER_KEYS = {pygame.K_LCTRL: "ctrl", pygame.K_RCTRL: "ctrl", pygame.K_LALT: "alt", pygame.K_RALT: "alt",
                 pygame.K_LSHIFT: "shift", pygame.K_RSHIFT: "shift"}
MODIFIER_MASKS = {"ctrl": pygame.KMOD_CTRL, "alt": pygame.KMOD_ALT, "shift": pygame.KMOD_SHIFT}
WAKING = {pygame.MOUSEBUTTONDOWN, pygame.FINGERDOWN, pygame.KEYDOWN, pygame.CONTROLLERBUTTONDOWN, pygame.JOYBUTTONDOWN}
ACTIVITY = WAKING | {pygame.MOUSEMOTION, pygame.MOUSEWHEEL, pygame.MOUSEBUTTONUP, pygame.FINGERMOTION, pygame.FINGERUP,
                     pygame.KEYUP, pygame.CONTROLLERBUTTONUP, pygame.JOYBUTTONUP, pygame.JOYHATMOTION,
                     pygame.CONTROLLERAXISMOTION, pygame.JOYAXISMOTION}


def is_waking(event: pygame.event.Event) -> bool:
    """A touch, click, key or button; a trigger or stick pushed well past its rest; a D-pad press."""
    if event.type in WAKING:
        return True
    if event.type == pygame.CONTROLLERAXISMOTION:
        return abs(event.value) > 0.5 * 32767
    if event.type == pygame.JOYAXISMOTION:
        return abs(event.value) > 0.5 and event.value != -1.0  # triggers rest at -1
    return event.type == pygame.JOYHATMOTION and tuple(event.value) != (0, 0)


@dataclass(frozen=True)
class KioskCounts:
    """What the kiosk has done since it started, for a soak report or an operator."""

    attract_rounds: int
    resets: int  # unattended edits cleared
    unattended_saves: int
    wakes: int  # the attract loop ended by a visitor
    visits: int = 0  # a wake (the first touch after the attract loop or a reset) to the next reset or attract
    strokes: int = 0  # strokes that visitors began (the attract loop's are not counted)
    saves: int = 0  # pictures that visitors saved


class Kiosk:
    def __init__(self, host: KioskHost, config: KioskConfig, *, router, controller, model: str,
                 notify: Callable[[str], None] = lambda line: None, restarts: Callable[[], int] = lambda: 0,
                 sessions=None):
        """``model``: the G on screen (its attract sessions play); ``notify``: to systemd; ``restarts()``: solver restarts."""
        self.host = host
        self.router = router
        self.controller = controller
        self.notify = notify
        self.restarts = restarts
        self.config = config
        now = host.clock()
        self.policy = IdlePolicy(config, now=now)
        self.chord = ChordWatch(config.chord, seconds=config.chord_seconds)
        self.cursor = CursorHider(seconds=config.cursor_hide_seconds, now=now)
        self.attract = AttractLoop(sessions if sessions is not None else load_attract_sessions(config, model=model),
                                   settle_seconds=config.settle_seconds, morph_seconds=config.morph_seconds,
                                   fresh_start=self.fresh_start, host=host, router=router, controller=controller)
        self.hints = KioskHintsView()
        self.take_home = TakeHome(config.gallery, clock=host.clock)
        self.resets = 0  # unattended edits cleared
        self.unattended_saves = 0
        self.wakes = 0
        self.visits = self.strokes = self.saves = 0
        self._visiting = False
        self._stroke_count = 0  # strokes of the edit on screen, as last seen
        self._unattended = False  # a save now is the kiosk's own, at a reset
        self._saved: tuple[str, bool, float] | None = None  # (line, ok, until)
        self._cursor_visible: bool | None = None
        self._exit_progress = 0.0
        self._status: str | None = None
        self._terminated = False
        self._old_handlers = self._take_stop_signals()

    def _take_stop_signals(self) -> dict:
        """SIGTERM (systemctl stop) and SIGINT quit cleanly. SDL turns them into a QUIT event, which the
        kiosk must drop (it is also the window's close button), so the kiosk handles them itself."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        old = {}
        for number in (signal.SIGTERM, signal.SIGINT):
            old[number] = signal.signal(number, self._on_stop_signal)
        return old

    def _on_stop_signal(self, number, frame) -> None:
        self._terminated = True

    @property
    def attracting(self) -> bool:
        return self.attract.running

    def counts(self) -> KioskCounts:
        return KioskCounts(attract_rounds=self.attract.rounds, resets=self.resets,
                           unattended_saves=self.unattended_saves, wakes=self.wakes, visits=self.visits,
                           strokes=self.strokes, saves=self.saves)

    # Input.
    def screen(self, events: list, now: float) -> list:
        """This frame's pygame events minus what a visitor may not do; notes activity and the exit chord."""
        kept = []
        for event in events:
            if event.type in BLOCKED_EVENTS:
                continue
            if event.type in (pygame.KEYDOWN, pygame.KEYUP):
                self._chord_key(event, now)
                if event.type == pygame.KEYDOWN and self._blocked_key(event):
                    continue
            elif event.type == pygame.WINDOWFOCUSLOST:
                self.chord.clear()
            elif event.type == pygame.MOUSEMOTION and not getattr(event, "touch", False):
                self.cursor.moved(now)
            if event.type in ACTIVITY and self.policy.input(now, waking=is_waking(event)) == WAKE:
                self._wake()
            if not self._visiting and is_waking(event):
                self._visiting = True
                self.visits += 1
            kept.append(event)
        return kept

    def _chord_key(self, event, now: float) -> None:
        # Modifiers follow the event's own modifier state, so a missed key-up cannot leave one held.
        for name in MODIFIERS:
            if event.mod & MODIFIER_MASKS[name]:
                self.chord.down(name, now)
            else:
                self.chord.up(name)
        name = MODIFIER_KEYS.get(event.key) or pygame.key.name(event.key).lower()
        if event.type == pygame.KEYDOWN:
            self.chord.down(name, now)
        elif name not in MODIFIERS:
            self.chord.up(name)

    @staticmethod
    def _blocked_key(event) -> bool:
        shortcut = keyboard.lookup(event.key, event.mod)
        return shortcut is not None and shortcut.action.name in BLOCKED_ACTIONS

    # Per frame.
    def tick(self, now: float) -> bool:
        """Decide and act (reset, attract, the attract loop, the exit chord, the cursor); True if the frame changed."""
        changed = False
        if self.router.drawing(besides=FEED_SOURCE):
            self.policy.input(now, waking=False)  # a visitor holding a stroke still is not idle
        self._count_strokes()
        decision = self.policy.due(now)
        if decision in (RESET, ATTRACT):
            self._save_unattended()
            self.fresh_start()
            self._visiting = False
            changed = True
            if decision == RESET:
                self.resets += 1
            else:
                self.attract.start(now)
        if self.attract.running:
            changed |= self.attract.step(now)
        progress = self.chord.progress(now)
        changed |= progress != self._exit_progress
        self._exit_progress = progress
        if self.chord.held(now) or self._terminated:
            self.host.on_action(Action(name="quit"))  # the operator's exit or a stop signal (the visitor's quit is blocked above)
        visible = self.cursor.visible(now)
        if visible != self._cursor_visible:
            pygame.mouse.set_visible(visible)
            self._cursor_visible = visible
        if self._saved is not None and now >= self._saved[2]:
            self._saved = None
            changed = True
        if self.take_home.shown is not None and self.take_home.current(now) is None:
            changed = True  # the QR code's time is up
        self._tell_systemd()
        return changed

    def _tell_systemd(self) -> None:
        """A STATUS= line for ``systemctl status`` when the kiosk changes between visitor and attract loop."""
        status = "attract loop" if self.attract.running else "visitor"
        if status != self._status:
            self._status = status
            self.notify(f"STATUS={status}; {self.unattended_saves} pictures saved unattended, "
                        f"{self.restarts()} solver restarts")

    def _wake(self) -> None:
        """The first touch, click or button in the attract loop: a fresh start for the visitor."""
        self.attract.stop()
        self.fresh_start()
        self.wakes += 1

    def _save_unattended(self) -> None:
        """Keep what a visitor left: a picture with strokes is saved before it is cleared."""
        state = self.controller.state
        if state.strokes or state.active is not None:
            self._unattended = True
            try:
                self.host.save()
            finally:
                self._unattended = False
            self.unattended_saves += 1

    def _count_strokes(self) -> None:
        """Strokes that visitors added since the last frame (undo and a fresh start only lower the mark)."""
        count = len(self.controller.state.strokes)
        if count > self._stroke_count and not self.attract.running:
            self.strokes += count - self._stroke_count
            self.take_home.clear()  # painting on: the code steps aside
        self._stroke_count = count

    def fresh_start(self) -> None:
        """A new start with no strokes, the default brush, the strokes shown, no help or morph on screen."""
        dispatch = self.host.on_action
        dispatch(Action(name="cancel"))  # closes the help, leaves the morph
        if not self.host.ui.show_overlay:
            dispatch(Action(name="toggle_overlay"))
        brush = Brush()
        dispatch(Action(name="color", value=brush.color))
        dispatch(Action(name="width", value=brush.width))
        dispatch(Action(name="tool", value=brush.tool))
        self.router.act(Action(name="command", value="reset"))
        self.take_home.clear()
        # The next save (and autosave) holds this visitor's session only, and the list stays bounded all day.
        self.controller.fresh_session()

    def saved(self, path, message: str):
        """The App saved (or failed to): a big confirmation for a few seconds, and the app's line (with the file's
        path) in the log, for the operator. Returns ``path``."""
        if path is None and self.controller.result is None:
            return None  # nothing to save yet
        print(f"kiosk: {message}", file=sys.stderr, flush=True)
        if path is not None:
            line, ok = "Saved! Your picture is kept.", True
            if not self._unattended:
                self.saves += 1
                self.take_home.saved(path)
        elif "No space" in message or "disk" in message.lower():
            line, ok = "The disk is full: pictures cannot be saved right now.", False
        else:
            line, ok = "Sorry, the picture could not be saved.", False
        self._saved = (line, ok, self.host.clock() + SAVED_SECONDS)
        return path

    # Drawing.
    def hint_state(self) -> HintState:
        saved = self._saved
        return HintState(attract=self.attract.running, fresh=not self.controller.state.strokes,
                         drawing=self.router.drawing(besides=FEED_SOURCE), gamepad=self.router.gamepad_connected, saved=saved[0] if saved and saved[1] else None,
                         save_failed=saved[0] if saved and not saved[1] else None, exit_progress=self._exit_progress,
                         qr=self.take_home.current(self.host.clock()))

    def draw(self, painter, size: tuple[int, int], canvas) -> None:
        self.hints.draw(painter, size, canvas, self.hint_state())

    def close(self) -> None:
        self.hints.release()
        if self._cursor_visible is False and pygame.display.get_init():
            pygame.mouse.set_visible(True)
        for number, handler in self._old_handlers.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)  # None: one set from C (SDL)
        self._old_handlers = {}
