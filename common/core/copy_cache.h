/* copy_cache.h - a process's copies of texts kept per user (a profile, a feed's first page),
 * trusted only while the notices that drop them are known to arrive.
 *
 * The table holds one copy per user id (any case), tagged with a variant the reader names
 * (the feed's page size and filter, say): a lookup of another variant misses. It is offline,
 * trusting nothing, until its owner switches it on once the channel that carries the drops
 * (a LISTEN, a Redis subscription) is in force, and it must be switched off when that channel
 * breaks: every copy is void at each switch. A read that raced with a change cannot keep what
 * it read: each slot counts its drops, and a copy is only kept if no drop of its slot happened
 * since the lookup that missed (its ticket). Each copy also ages out, after the table's ttl_ms
 * or the shorter life its writer gives it, which bounds a notice that was never sent. */
#ifndef HERALD_COPY_CACHE_H
#define HERALD_COPY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h_copy_cache;

/* Taken by a lookup that missed; h_copy_cache_put stores only if it is still current. */
struct h_copy_ticket {
  size_t slot;
  uint64_t slot_drops;
  uint64_t generation;
};

/* A table of slots entries (rounded up to a power of two) trusted for ttl_ms, offline until
 * h_copy_cache_set_online. Free with h_copy_cache_free. */
struct h_copy_cache *h_copy_cache_new(size_t slots, int ttl_ms);
void h_copy_cache_free(struct h_copy_cache *c);

/* A copy (caller frees) of user_id's text of this variant when one is held, fresh and the
 * table is online; otherwise NULL and *t the ticket to store what is read next. c may be
 * NULL. */
char *h_copy_cache_get(struct h_copy_cache *c, const char *user_id, int variant,
                       struct h_copy_ticket *t);

/* Keeps a copy of text (borrowed) for user_id and variant, for ttl_ms or life_ms when that
 * is shorter (life_ms < 0: the table's ttl_ms; 0: nothing kept), unless a drop of its slot
 * happened since t was taken or the table switched meanwhile. c may be NULL. */
void h_copy_cache_put(struct h_copy_cache *c, const char *user_id, int variant,
                      const char *text, long long life_ms, const struct h_copy_ticket *t);

/* Drops user_id's copy (any case) and spoils the tickets of its slot. c may be NULL. */
void h_copy_cache_drop(struct h_copy_cache *c, const char *user_id);

/* Drops every copy and spoils every ticket, online or not. c may be NULL. */
void h_copy_cache_drop_all(struct h_copy_cache *c);

/* Online: copies may be kept and served. Either way every copy held is dropped. */
void h_copy_cache_set_online(struct h_copy_cache *c, bool online);

struct h_copy_cache_stats {
  bool online;         /* the drops' channel is in force: copies are kept and served */
  unsigned long hits;  /* lookups answered from a copy */
  unsigned long misses;
  unsigned long drops; /* notices and writers' drops */
};

/* c's counters (all zero for NULL). */
void h_copy_cache_stats(struct h_copy_cache *c, struct h_copy_cache_stats *out);

#endif
