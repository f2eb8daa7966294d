/*
 * crashpoint.h — named points where a test can make a process die.
 *
 * kill -9 at a random instant finds some bugs; kill -9 at the instant
 * between two steps that must both happen finds the rest. Each program
 * marks such instants with crash_point("name"). With XM_CRASH_AT unset
 * (every real run) a point costs one getenv and does nothing. The tests
 * (tests/guest/chaos.sh and the crash tests) set:
 *
 *   XM_CRASH_AT=name      the process SIGKILLs itself the first time it
 *                         passes the point
 *   XM_CRASH_AT=name@N    ... the N-th time (1-based)
 *   XM_CRASH_LOG=file     every point passed is appended to file, one name
 *                         a line (what a run covered)
 *   XM_CRASH_HOW=stop     at XM_CRASH_AT the process stops itself
 *                         (SIGSTOP) instead: frozen at that instant, a
 *                         test kills another part, then SIGCONTs it
 *
 * Names are "<program>.<step>", e.g. "xmbackd.after-device-add".
 */
#ifndef XM_CRASHPOINT_H
#define XM_CRASHPOINT_H

void crash_point(const char *name);

#endif
