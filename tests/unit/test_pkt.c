/* ns_pkt: push/pull/put/trim/reserve, header marks, clone, copy-on-write,
 * deep copy and packet lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/err.h>
#include <netstack/pkt.h>

static int setup_pool(void **state)
{
        *state = ns_pkt_pool_create(NULL, NULL);
        return *state ? 0 : -1;
}

static int teardown_pool(void **state)
{
        struct ns_pkt_pool_stats st;

        ns_pkt_pool_get_stats(*state, &st);
        /* Every test frees what it allocates. */
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.bytes_in_use, 0);
        ns_pkt_pool_destroy(*state);
        return 0;
}

static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
        for (uint32_t i = 0; i < n; i++)
                p[i] = (uint8_t)(seed + i);
}

static void test_alloc_layout(void **state)
{
        struct ns_pkt *p = ns_pkt_alloc(*state, 64, 100);

        assert_non_null(p);
        assert_int_equal(ns_pkt_len(p), 0);
        assert_int_equal(ns_pkt_headroom(p), 64);
        assert_true(ns_pkt_tailroom(p) >= 100);
        assert_int_equal(ns_pkt_headroom(p) + ns_pkt_tailroom(p), p->cap);
        assert_ptr_equal(ns_pkt_data(p), p->head + 64);
        assert_null(p->next);
        assert_ptr_equal(p->pool, *state);
        assert_null(ns_pkt_link_header(p));
        assert_null(ns_pkt_network_header(p));
        assert_null(ns_pkt_transport_header(p));
        assert_int_equal(p->flags, 0);
        assert_int_equal(p->nic_id, 0);
        assert_false(ns_pkt_is_shared(p));
        ns_pkt_free(p);
        ns_pkt_free(NULL); /* NULL is ignored */
}

static void test_push_boundaries(void **state)
{
        struct ns_pkt *p = ns_pkt_alloc(*state, 20, 10);
        uint8_t *d0 = ns_pkt_data(p);

        /* Zero is a no-op that still returns the data start. */
        assert_ptr_equal(ns_pkt_push(p, 0), d0);
        assert_int_equal(ns_pkt_len(p), 0);
        /* One past the headroom fails and leaves p unchanged. */
        assert_null(ns_pkt_push(p, 21));
        assert_int_equal(ns_pkt_headroom(p), 20);
        assert_int_equal(ns_pkt_len(p), 0);
        /* Huge values cannot wrap the unsigned check. */
        assert_null(ns_pkt_push(p, UINT32_MAX));
        assert_int_equal(ns_pkt_headroom(p), 20);
        /* Exactly the headroom succeeds. */
        assert_ptr_equal(ns_pkt_push(p, 20), p->head);
        assert_int_equal(ns_pkt_len(p), 20);
        assert_int_equal(ns_pkt_headroom(p), 0);
        assert_null(ns_pkt_push(p, 1));
        assert_int_equal(ns_pkt_len(p), 20);
        ns_pkt_free(p);
}

static void test_pull_boundaries(void **state)
{
        const uint8_t bytes[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        struct ns_pkt *p = ns_pkt_from_bytes(*state, 8, bytes, sizeof(bytes));

        assert_non_null(p);
        assert_memory_equal(ns_pkt_data(p), bytes, 10);
        assert_ptr_equal(ns_pkt_pull(p, 0), p->head + 8);
        assert_null(ns_pkt_pull(p, 11));
        assert_null(ns_pkt_pull(p, UINT32_MAX));
        assert_int_equal(ns_pkt_len(p), 10);
        assert_int_equal(ns_pkt_headroom(p), 8);
        uint8_t *d = ns_pkt_pull(p, 3);
        assert_non_null(d);
        assert_int_equal(d[0], 3);
        assert_int_equal(ns_pkt_len(p), 7);
        assert_int_equal(ns_pkt_headroom(p), 11);
        /* Exactly the rest empties the packet. */
        assert_non_null(ns_pkt_pull(p, 7));
        assert_int_equal(ns_pkt_len(p), 0);
        assert_null(ns_pkt_pull(p, 1));
        /* Pulled bytes come back with a push. */
        d = ns_pkt_push(p, 10);
        assert_non_null(d);
        assert_memory_equal(d, bytes, 10);
        ns_pkt_free(p);
}

static void test_put_boundaries(void **state)
{
        struct ns_pkt *p = ns_pkt_alloc(*state, 16, 32);
        uint32_t room = ns_pkt_tailroom(p);
        uint8_t *d;

        assert_ptr_equal(ns_pkt_put(p, 0), ns_pkt_data(p));
        assert_int_equal(ns_pkt_len(p), 0);
        assert_null(ns_pkt_put(p, room + 1));
        assert_null(ns_pkt_put(p, UINT32_MAX));
        assert_int_equal(ns_pkt_len(p), 0);
        d = ns_pkt_put(p, 5);
        assert_ptr_equal(d, ns_pkt_data(p));
        d = ns_pkt_put(p, 7);
        assert_ptr_equal(d, ns_pkt_data(p) + 5);
        assert_int_equal(ns_pkt_len(p), 12);
        assert_int_equal(ns_pkt_tailroom(p), room - 12);
        /* Exactly the tailroom that is left. */
        assert_non_null(ns_pkt_put(p, room - 12));
        assert_int_equal(ns_pkt_tailroom(p), 0);
        assert_int_equal(ns_pkt_headroom(p) + ns_pkt_len(p), p->cap);
        assert_null(ns_pkt_put(p, 1));
        ns_pkt_free(p);
}

static void test_trim(void **state)
{
        const uint8_t bytes[6] = { 1, 2, 3, 4, 5, 6 };
        struct ns_pkt *p = ns_pkt_from_bytes(*state, 0, bytes, sizeof(bytes));
        uint32_t tail = ns_pkt_tailroom(p);

        ns_pkt_trim(p, 100); /* longer: nothing */
        assert_int_equal(ns_pkt_len(p), 6);
        ns_pkt_trim(p, 6); /* equal: nothing */
        assert_int_equal(ns_pkt_len(p), 6);
        ns_pkt_trim(p, 4);
        assert_int_equal(ns_pkt_len(p), 4);
        assert_int_equal(ns_pkt_tailroom(p), tail + 2);
        assert_memory_equal(ns_pkt_data(p), bytes, 4);
        ns_pkt_trim(p, 0);
        assert_int_equal(ns_pkt_len(p), 0);
        assert_int_equal(ns_pkt_headroom(p), 0);
        ns_pkt_free(p);
}

static void test_reserve(void **state)
{
        struct ns_pkt *p = ns_pkt_alloc(*state, 0, 100);
        uint32_t cap = p->cap;

        ns_pkt_reserve(p, 0);
        assert_int_equal(ns_pkt_headroom(p), 0);
        ns_pkt_reserve(p, 40);
        assert_int_equal(ns_pkt_headroom(p), 40);
        assert_int_equal(ns_pkt_tailroom(p), cap - 40);
        /* More than the tailroom: nothing. */
        ns_pkt_reserve(p, cap - 40 + 1);
        assert_int_equal(ns_pkt_headroom(p), 40);
        ns_pkt_reserve(p, UINT32_MAX);
        assert_int_equal(ns_pkt_headroom(p), 40);
        /* Exactly the tailroom. */
        ns_pkt_reserve(p, cap - 40);
        assert_int_equal(ns_pkt_headroom(p), cap);
        assert_int_equal(ns_pkt_tailroom(p), 0);
        ns_pkt_free(p);

        /* A packet with data is left alone. */
        p = ns_pkt_alloc(*state, 10, 10);
        assert_non_null(ns_pkt_put(p, 1));
        ns_pkt_reserve(p, 5);
        assert_int_equal(ns_pkt_headroom(p), 10);
        assert_int_equal(ns_pkt_len(p), 1);
        ns_pkt_free(p);
}

/* Builds payload, UDP-ish, IP-ish and Ethernet-ish headers top-down. */
static struct ns_pkt *build_layered(struct ns_pkt_pool *pool)
{
        struct ns_pkt *p = ns_pkt_alloc(pool, 64, 32);
        uint8_t *h;

        fill(ns_pkt_put(p, 32), 32, 0xa0);
        h = ns_pkt_push(p, 8);
        memset(h, 0x08, 8);
        ns_pkt_set_transport_header(p);
        h = ns_pkt_push(p, 20);
        memset(h, 0x45, 20);
        ns_pkt_set_network_header(p);
        h = ns_pkt_push(p, 14);
        memset(h, 0xee, 14);
        ns_pkt_set_link_header(p);
        p->nic_id = 3;
        p->flags = NS_PKT_F_LINK_BCAST | NS_PKT_F_CSUM_VERIFIED;
        p->mark = 77;
        p->net_proto = 0x0800;
        p->transport_proto = 17;
        return p;
}

static void test_header_marks_survive_push_pull(void **state)
{
        struct ns_pkt *p = build_layered(*state);
        uint8_t *l2 = ns_pkt_link_header(p);
        uint8_t *l3 = ns_pkt_network_header(p);
        uint8_t *l4 = ns_pkt_transport_header(p);

        assert_ptr_equal(l2, p->head + 64 - 42);
        assert_ptr_equal(l3, l2 + 14);
        assert_ptr_equal(l4, l3 + 20);
        assert_ptr_equal(ns_pkt_data(p), l2);
        assert_int_equal(ns_pkt_len(p), 74);

        /* Pulling moves the data start, never the marks. */
        assert_ptr_equal(ns_pkt_pull(p, 14), l3);
        assert_ptr_equal(ns_pkt_network_header(p), l3);
        assert_ptr_equal(ns_pkt_link_header(p), l2);
        assert_int_equal(ns_pkt_link_header(p)[0], 0xee);
        assert_ptr_equal(ns_pkt_pull(p, 20), l4);
        assert_ptr_equal(ns_pkt_pull(p, 8), l4 + 8);
        assert_int_equal(ns_pkt_data(p)[0], 0xa0);
        assert_ptr_equal(ns_pkt_transport_header(p), l4);
        /* And pushing back reaches the same bytes. */
        assert_ptr_equal(ns_pkt_push(p, 42), l2);
        ns_pkt_set_network_header(p);
        assert_ptr_equal(ns_pkt_network_header(p), l2);
        ns_pkt_free(p);
}

static void test_clone_shares_bytes(void **state)
{
        struct ns_pkt_pool_stats before, after;
        struct ns_pkt *p = build_layered(*state);
        struct ns_pkt *c;

        p->next = p; /* not copied into the clone */
        ns_pkt_pool_get_stats(*state, &before);
        c = ns_pkt_clone(p);
        ns_pkt_pool_get_stats(*state, &after);
        assert_non_null(c);
        assert_ptr_not_equal(c, p);
        assert_null(c->next);
        assert_ptr_equal(c->buf, p->buf);
        assert_ptr_equal(ns_pkt_data(c), ns_pkt_data(p));
        assert_int_equal(ns_pkt_len(c), ns_pkt_len(p));
        assert_ptr_equal(ns_pkt_network_header(c), ns_pkt_network_header(p));
        assert_int_equal(c->nic_id, 3);
        assert_int_equal(c->mark, 77);
        assert_int_equal(c->flags, p->flags);
        assert_int_equal(c->transport_proto, 17);
        assert_true(ns_pkt_is_shared(p));
        assert_true(ns_pkt_is_shared(c));
        /* A clone is one more packet but no more storage. */
        assert_int_equal(after.in_use, before.in_use + 1);
        assert_int_equal(after.bytes_in_use, before.bytes_in_use);

        /* Clones are independent views over the same bytes. */
        assert_non_null(ns_pkt_pull(c, 14));
        assert_int_equal(ns_pkt_len(p), 74);
        ns_pkt_data(p)[20] = 0x99;
        assert_int_equal(ns_pkt_data(c)[6], 0x99);

        struct ns_pkt *c2 = ns_pkt_clone(c);
        assert_non_null(c2);
        ns_pkt_free(c);
        assert_true(ns_pkt_is_shared(p));
        ns_pkt_free(c2);
        assert_false(ns_pkt_is_shared(p));
        assert_int_equal(ns_pkt_data(p)[20], 0x99);
        p->next = NULL;
        ns_pkt_free(p);
}

static void test_make_writable_unshared_is_noop(void **state)
{
        struct ns_pkt_pool_stats before, after;
        struct ns_pkt *p = build_layered(*state);
        uint8_t *head = p->head;
        struct ns_pkt_data *buf = p->buf;

        ns_pkt_pool_get_stats(*state, &before);
        assert_int_equal(ns_pkt_make_writable(p), 0);
        ns_pkt_pool_get_stats(*state, &after);
        assert_ptr_equal(p->head, head);
        assert_ptr_equal(p->buf, buf);
        assert_int_equal(after.bytes_in_use, before.bytes_in_use);
        assert_int_equal(after.mallocs, before.mallocs);
        ns_pkt_free(p);
}

static void test_make_writable_copies_when_shared(void **state)
{
        struct ns_pkt *p = build_layered(*state);
        struct ns_pkt *c;
        uint8_t orig[74];
        uint8_t *old_head = p->head;

        memcpy(orig, ns_pkt_data(p), sizeof(orig));
        /* Pull the link header so the copy must keep bytes before off. */
        assert_non_null(ns_pkt_pull(p, 14));
        c = ns_pkt_clone(p);
        assert_non_null(c);

        assert_int_equal(ns_pkt_make_writable(c), 0);
        assert_ptr_not_equal(c->head, old_head);
        assert_ptr_equal(p->head, old_head);
        assert_false(ns_pkt_is_shared(c));
        assert_false(ns_pkt_is_shared(p));
        /* Same offsets and bytes, including the pulled link header. */
        assert_int_equal(c->cap, p->cap);
        assert_int_equal(c->off, p->off);
        assert_int_equal(c->len, p->len);
        assert_int_equal(c->link_hdr, p->link_hdr);
        assert_int_equal(c->net_hdr, p->net_hdr);
        assert_int_equal(c->transport_hdr, p->transport_hdr);
        assert_memory_equal(ns_pkt_link_header(c), orig, sizeof(orig));

        /* Writes to one no longer reach the other. */
        ns_pkt_network_header(c)[8] = 1; /* TTL */
        assert_int_equal(ns_pkt_network_header(p)[8], 0x45);
        assert_memory_equal(ns_pkt_link_header(p), orig, sizeof(orig));
        /* The writable copy has its headroom for a new link header. */
        assert_non_null(ns_pkt_push(c, 14));
        ns_pkt_free(p);
        ns_pkt_free(c);
}

static void test_make_writable_failure_leaves_packet(void **state)
{
        (void)state;
        /* Room for exactly one small buffer. */
        struct ns_pkt_pool_config cfg = { .max_bytes = 2048 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt_pool_stats st;
        struct ns_pkt *p = build_layered(pool);
        struct ns_pkt *c = ns_pkt_clone(p);
        uint8_t *head = c->head;

        assert_non_null(c);
        assert_int_equal(ns_pkt_make_writable(c), NS_ERR_NO_BUFFER_SPACE);
        assert_ptr_equal(c->head, head);
        assert_true(ns_pkt_is_shared(c));
        assert_int_equal(ns_pkt_data(c)[0], 0xee);
        ns_pkt_pool_get_stats(pool, &st);
        assert_int_equal(st.alloc_failures, 1);
        /* Once the other holder lets go, no copy is needed. */
        ns_pkt_free(p);
        assert_int_equal(ns_pkt_make_writable(c), 0);
        assert_ptr_equal(c->head, head);
        ns_pkt_free(c);
        ns_pkt_pool_get_stats(pool, &st);
        assert_int_equal(st.in_use, 0);
        ns_pkt_pool_destroy(pool);
}

static void test_copy_with_other_headroom(void **state)
{
        struct ns_pkt *p = build_layered(*state);
        uint8_t orig[74];

        memcpy(orig, ns_pkt_data(p), sizeof(orig));
        assert_non_null(ns_pkt_pull(p, 14 + 20)); /* data = transport */

        const uint32_t rooms[] = { 0, 1, 128, 3000 };
        for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
                struct ns_pkt *c = ns_pkt_copy(*state, p, rooms[i]);
                assert_non_null(c);
                assert_ptr_not_equal(c->buf, p->buf);
                assert_false(ns_pkt_is_shared(p));
                assert_int_equal(ns_pkt_len(c), ns_pkt_len(p));
                assert_memory_equal(ns_pkt_data(c), ns_pkt_data(p), ns_pkt_len(p));
                /* Headroom: what was asked plus the headers kept before data. */
                assert_int_equal(ns_pkt_headroom(c), rooms[i] + 34);
                assert_ptr_equal(ns_pkt_link_header(c), c->head + rooms[i]);
                assert_memory_equal(ns_pkt_link_header(c), orig, sizeof(orig));
                assert_ptr_equal(ns_pkt_network_header(c), ns_pkt_link_header(c) + 14);
                assert_ptr_equal(ns_pkt_transport_header(c), ns_pkt_data(c));
                assert_int_equal(c->nic_id, 3);
                assert_int_equal(c->flags, p->flags);
                assert_int_equal(c->mark, 77);
                assert_int_equal(c->net_proto, 0x0800);
                assert_int_equal(c->transport_proto, 17);
                /* Independent bytes. */
                ns_pkt_data(c)[0] ^= 0xff;
                assert_int_equal(ns_pkt_data(p)[0], 0x08);
                ns_pkt_free(c);
        }
        ns_pkt_free(p);
}

static void test_copy_without_marks_and_past_end(void **state)
{
        const uint8_t bytes[40] = { 7 };
        struct ns_pkt *p = ns_pkt_from_bytes(*state, 50, bytes, sizeof(bytes));
        struct ns_pkt *c;

        c = ns_pkt_copy(*state, p, 4);
        assert_non_null(c);
        assert_int_equal(ns_pkt_headroom(c), 4);
        assert_memory_equal(ns_pkt_data(c), bytes, 40);
        assert_null(ns_pkt_network_header(c));
        ns_pkt_free(c);

        /* A mark beyond the (trimmed) data is dropped in the copy. */
        assert_non_null(ns_pkt_pull(p, 30));
        ns_pkt_set_transport_header(p);
        assert_non_null(ns_pkt_push(p, 30));
        ns_pkt_set_network_header(p);
        ns_pkt_trim(p, 20);
        c = ns_pkt_copy(*state, p, 0);
        assert_non_null(c);
        assert_ptr_equal(ns_pkt_network_header(c), c->head);
        assert_null(ns_pkt_transport_header(c));
        assert_int_equal(ns_pkt_len(c), 20);
        ns_pkt_free(c);
        ns_pkt_free(p);
}

static void test_from_bytes_empty(void **state)
{
        struct ns_pkt *p = ns_pkt_from_bytes(*state, 12, NULL, 0);

        assert_non_null(p);
        assert_int_equal(ns_pkt_len(p), 0);
        assert_int_equal(ns_pkt_headroom(p), 12);
        ns_pkt_free(p);
}

static void assert_list(const struct ns_pkt_list *l, struct ns_pkt *const *want, uint32_t n)
{
        const struct ns_pkt *p = l->head;

        assert_int_equal(l->count, n);
        for (uint32_t i = 0; i < n; i++) {
                assert_ptr_equal(p, want[i]);
                p = p->next;
        }
        assert_null(p);
        assert_ptr_equal(l->tail, n ? want[n - 1] : NULL);
}

static void test_list_insert_remove(void **state)
{
        struct ns_pkt_list l;
        struct ns_pkt *a[5];

        for (int i = 0; i < 5; i++) {
                a[i] = ns_pkt_alloc(*state, 0, 1);
                assert_non_null(a[i]);
        }
        ns_pkt_list_init(&l);
        assert_true(ns_pkt_list_empty(&l));
        assert_null(ns_pkt_list_pop_front(&l));

        ns_pkt_list_insert_after(&l, NULL, a[2]); /* into empty */
        assert_list(&l, (struct ns_pkt *[]){ a[2] }, 1);
        ns_pkt_list_insert_after(&l, a[2], a[4]); /* at tail */
        assert_list(&l, (struct ns_pkt *[]){ a[2], a[4] }, 2);
        ns_pkt_list_insert_after(&l, NULL, a[0]); /* at head */
        assert_list(&l, (struct ns_pkt *[]){ a[0], a[2], a[4] }, 3);
        ns_pkt_list_insert_after(&l, a[0], a[1]); /* middle */
        ns_pkt_list_insert_after(&l, a[2], a[3]);
        assert_list(&l, a, 5);

        ns_pkt_list_remove(&l, a[2]); /* middle */
        assert_null(a[2]->next);
        assert_list(&l, (struct ns_pkt *[]){ a[0], a[1], a[3], a[4] }, 4);
        ns_pkt_list_remove(&l, a[2]); /* not in the list: nothing */
        assert_list(&l, (struct ns_pkt *[]){ a[0], a[1], a[3], a[4] }, 4);
        ns_pkt_list_remove(&l, a[0]); /* head */
        assert_list(&l, (struct ns_pkt *[]){ a[1], a[3], a[4] }, 3);
        ns_pkt_list_remove(&l, a[4]); /* tail */
        assert_list(&l, (struct ns_pkt *[]){ a[1], a[3] }, 2);
        ns_pkt_list_push_back(&l, a[4]); /* tail still right after removal */
        assert_list(&l, (struct ns_pkt *[]){ a[1], a[3], a[4] }, 3);
        ns_pkt_list_push_front(&l, a[0]);
        assert_list(&l, (struct ns_pkt *[]){ a[0], a[1], a[3], a[4] }, 4);

        assert_ptr_equal(ns_pkt_list_pop_front(&l), a[0]);
        assert_null(a[0]->next);
        assert_list(&l, (struct ns_pkt *[]){ a[1], a[3], a[4] }, 3);
        ns_pkt_list_remove(&l, a[1]);
        ns_pkt_list_remove(&l, a[3]);
        ns_pkt_list_remove(&l, a[4]); /* last one empties the list */
        assert_list(&l, NULL, 0);
        assert_true(ns_pkt_list_empty(&l));
        for (int i = 0; i < 5; i++)
                ns_pkt_list_push_back(&l, a[i]);
        assert_list(&l, a, 5);
        ns_pkt_list_free(&l);
        assert_list(&l, NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_pool, teardown_pool)
                T(test_alloc_layout),
                T(test_push_boundaries),
                T(test_pull_boundaries),
                T(test_put_boundaries),
                T(test_trim),
                T(test_reserve),
                T(test_header_marks_survive_push_pull),
                T(test_clone_shares_bytes),
                T(test_make_writable_unshared_is_noop),
                T(test_make_writable_copies_when_shared),
                T(test_make_writable_failure_leaves_packet),
                T(test_copy_with_other_headroom),
                T(test_copy_without_marks_and_past_end),
                T(test_from_bytes_empty),
                T(test_list_insert_remove),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
