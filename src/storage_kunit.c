// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the storage layer, built as its own module (scull_kunit)
 * on kernels with CONFIG_KUNIT.  The file includes storage.c, so the
 * tests reach its static helpers too; the module has a private copy of
 * the storage code and shares nothing with scull.ko.
 *
 * Each test drives a store directly, as fops.c does: lock, call, unlock,
 * with kernel buffers (ITER_KVEC) for the bytes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt	/* storage.c's, before any header */

#include <kunit/test.h>

#include "storage.c"

/* A store of @quantum x @qset, @limit bytes at most, file-like or not. */
static struct scull_store *store_new(struct kunit *test, unsigned int quantum,
				     unsigned int qset, loff_t limit,
				     loff_t capacity)
{
	struct scull_store *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_EQ(test, 0, scull_geometry_check(quantum, qset, limit));
	scull_store_init(st, quantum, qset, limit, capacity);
	return st;
}

static void store_free(struct scull_store *st)
{
	down_write(&st->rwsem);
	scull_store_trim(st);
	up_write(&st->rwsem);
}

static ssize_t store_write(struct scull_store *st, const void *buf,
			   size_t len, loff_t pos)
{
	struct kvec kv = { (void *)buf, len };
	struct iov_iter from;
	ssize_t ret;

	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	down_write(&st->rwsem);
	ret = scull_store_write(st, &from, pos, false, NULL);
	up_write(&st->rwsem);
	return ret;
}

static ssize_t store_read(struct scull_store *st, void *buf, size_t len,
			  loff_t pos)
{
	struct kvec kv = { buf, len };
	struct iov_iter to;
	ssize_t ret;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, len);
	down_read(&st->rwsem);
	ret = scull_store_read(st, &to, pos);
	up_read(&st->rwsem);
	return ret;
}

static u8 byte_at(loff_t pos)
{
	return (pos * 131 + (pos >> 9)) & 0xff;
}

static void fill(u8 *buf, size_t len, loff_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = byte_at(pos + i);
}

/* Offsets to (set, quantum, byte), with shifts and with divisions. */
static void pos_decode_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, SZ_1G, 0);
	struct scull_pos p;

	KUNIT_EXPECT_TRUE(test, st->pow2);
	scull_pos_decode(st, 0, &p);
	KUNIT_EXPECT_EQ(test, 0UL, p.qs);
	KUNIT_EXPECT_EQ(test, 0U, p.q);
	KUNIT_EXPECT_EQ(test, 0U, p.off);
	scull_pos_decode(st, 2 * SZ_2M + 3 * 4096 + 17, &p);
	KUNIT_EXPECT_EQ(test, 2UL, p.qs);
	KUNIT_EXPECT_EQ(test, 3U, p.q);
	KUNIT_EXPECT_EQ(test, 17U, p.off);
	KUNIT_EXPECT_EQ(test, 3U * 4096 + 17, p.in_qset);

	st = store_new(test, 1000, 7, SZ_1G, 0);
	KUNIT_EXPECT_FALSE(test, st->pow2);
	scull_pos_decode(st, 7000 * 5 + 1000 * 6 + 999, &p);
	KUNIT_EXPECT_EQ(test, 5UL, p.qs);
	KUNIT_EXPECT_EQ(test, 6U, p.q);
	KUNIT_EXPECT_EQ(test, 999U, p.off);
	/* advancing to the end of a set moves to the next one */
	scull_pos_advance(st, &p, 1);
	KUNIT_EXPECT_EQ(test, 6UL, p.qs);
	KUNIT_EXPECT_EQ(test, 0U, p.q);
	KUNIT_EXPECT_EQ(test, 0U, p.off);
}

/* Geometry bounds, and the set index's width for the limit. */
static void geometry_check_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 0, scull_geometry_check(1, 1, SZ_4G));
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_geometry_check(0, 1, SZ_1M));
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_geometry_check(1, 0, SZ_1M));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			scull_geometry_check(SCULL_QUANTUM_MAX + 1, 1, SZ_1M));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			scull_geometry_check(1, SCULL_QSET_MAX + 1, SZ_1M));
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_geometry_check(65536, 65536, SZ_1M));
	KUNIT_EXPECT_EQ(test, 0, scull_geometry_check(65536, 16384, SZ_1M));
	/* 2^32 one-byte sets end at 4 GiB: one byte more needs index 2^32 */
	KUNIT_EXPECT_EQ(test, BITS_PER_LONG == 32 ? -EFBIG : 0,
			scull_geometry_check(1, 1, SZ_4G + 1));
}

/* Writes across quanta and sets read back; the size is the furthest end. */
static void write_read_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 1000, 3, SZ_1M, 0);
	size_t len = 7777;
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, back);
	fill(buf, len, 2999);
	KUNIT_EXPECT_EQ(test, (ssize_t)len, store_write(st, buf, len, 2999));
	KUNIT_EXPECT_EQ(test, 2999LL + len, st->size);
	/* 2999 .. 10775 touches quanta 2 .. 10: sets 0 .. 3 */
	KUNIT_EXPECT_EQ(test, 9UL, st->nr_quanta);
	KUNIT_EXPECT_EQ(test, 4UL, st->nr_qsets);
	KUNIT_EXPECT_EQ(test, (ssize_t)len, store_read(st, back, len + 10, 2999));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, back, len));
	/* at and past the end: end of file */
	KUNIT_EXPECT_EQ(test, 0L, store_read(st, back, 1, st->size));
	KUNIT_EXPECT_EQ(test, 0L, store_read(st, back, 1, SZ_1G));
	store_free(st);
	KUNIT_EXPECT_EQ(test, 0LL, st->size);
	KUNIT_EXPECT_EQ(test, 0UL, st->nr_quanta);
	KUNIT_EXPECT_EQ(test, 0UL, st->nr_qsets);
	KUNIT_EXPECT_TRUE(test, list_empty(&st->qsets));
	KUNIT_EXPECT_TRUE(test, xa_empty(&st->index));
}

/* Holes read as zeros and allocate nothing. */
static void hole_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, SZ_16M, 0);
	u8 *back = kunit_kmalloc(test, SZ_4M, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, back);
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "x", 1, SZ_4M));
	KUNIT_EXPECT_EQ(test, 1UL, st->nr_quanta);
	memset(back, 0xa5, SZ_4M);
	KUNIT_EXPECT_EQ(test, (ssize_t)SZ_4M, store_read(st, back, SZ_4M, 0));
	for (i = 0; i < SZ_4M && !back[i]; i++)
		;
	KUNIT_EXPECT_EQ(test, (size_t)SZ_4M, i);
	KUNIT_EXPECT_EQ(test, 1UL, st->nr_quanta);
	store_free(st);
}

/* The limit: -ENOSPC at it, a partial count across it. */
static void limit_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, 10000, 0);
	u8 buf[100];

	fill(buf, sizeof(buf), 0);
	KUNIT_EXPECT_EQ(test, -ENOSPC, store_write(st, buf, 1, 10000));
	KUNIT_EXPECT_EQ(test, -ENOSPC, store_write(st, buf, 1, SZ_1G));
	KUNIT_EXPECT_EQ(test, 40L, store_write(st, buf, sizeof(buf), 9960));
	KUNIT_EXPECT_EQ(test, 10000LL, st->size);
	KUNIT_EXPECT_EQ(test, 0L, store_write(st, buf, 0, 20000));
	store_free(st);
}

/* Geometry changes only while no quantum is stored. */
static void set_geometry_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, SZ_1M, 0);

	down_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, 0, scull_store_set_geometry(st, 100, 10));
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_store_set_geometry(st, 0, 10));
	up_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "y", 1, 555));
	down_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, -EBUSY, scull_store_set_geometry(st, 200, 10));
	/* an invalid value is -EINVAL even when busy */
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_store_set_geometry(st, 0, 10));
	scull_store_trim(st);
	KUNIT_EXPECT_EQ(test, 0, scull_store_set_geometry(st, 200, 10));
	up_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, 200U, st->quantum);
	KUNIT_EXPECT_EQ(test, 10U, st->qset);
	KUNIT_EXPECT_FALSE(test, st->pow2);
}

/* SEEK_DATA and SEEK_HOLE at quantum granularity, odd geometry. */
static void seek_data_hole_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 1000, 3, SZ_1M, 0);

	/* data: quantum 4 (set 1) and quanta 9, 10 (set 3); size 10500 */
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "a", 1, 4500));
	KUNIT_EXPECT_EQ(test, 2L, store_write(st, "bc", 2, 9999));
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "d", 1, 10499));
	down_read(&st->rwsem);
	KUNIT_EXPECT_EQ(test, 4000LL, scull_store_seek_data(st, 0));
	KUNIT_EXPECT_EQ(test, 4200LL, scull_store_seek_data(st, 4200));
	KUNIT_EXPECT_EQ(test, 9000LL, scull_store_seek_data(st, 5000));
	KUNIT_EXPECT_EQ(test, 10300LL, scull_store_seek_data(st, 10300));
	KUNIT_EXPECT_EQ(test, -ENXIO, scull_store_seek_data(st, 10500));
	KUNIT_EXPECT_EQ(test, 0LL, scull_store_seek_hole(st, 0));
	KUNIT_EXPECT_EQ(test, 5000LL, scull_store_seek_hole(st, 4000));
	KUNIT_EXPECT_EQ(test, 10500LL, scull_store_seek_hole(st, 9000));
	up_read(&st->rwsem);
	store_free(st);
}

/* A failed step frees what it allocated: the set, then the quantum. */
static void write_undo_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, SZ_16M, 0);
	struct scull_qset *qs = NULL;
	struct scull_pos p;
	bool fresh;
	void *q;

	down_write(&st->rwsem);
	scull_pos_decode(st, SZ_4M, &p);
	q = scull_quantum_get(st, &qs, &p, &fresh);
	KUNIT_ASSERT_FALSE(test, IS_ERR(q));
	KUNIT_EXPECT_TRUE(test, fresh);
	KUNIT_EXPECT_EQ(test, 1UL, st->nr_qsets);
	scull_write_undo(st, qs, &p, fresh);
	KUNIT_EXPECT_EQ(test, 0UL, st->nr_quanta);
	KUNIT_EXPECT_EQ(test, 0UL, st->nr_qsets);
	KUNIT_EXPECT_TRUE(test, xa_empty(&st->index));
	/* the table the set grew went with it */
	KUNIT_EXPECT_NULL(test, st->table);
	KUNIT_EXPECT_EQ(test, 0UL, st->table_len);
	up_write(&st->rwsem);
}

/* Every table entry is the index's set of that number, or NULL for none. */
static void expect_table_matches(struct kunit *test, struct scull_store *st)
{
	unsigned long i;

	for (i = 0; i < st->table_len; i++)
		KUNIT_EXPECT_PTR_EQ(test, xa_load(&st->index, i), st->table[i]);
}

/*
 * The table of sets: grown to a power of two by a write past it, never
 * past SCULL_TABLE_MAX (those sets are found in the index), filled from
 * the index when it grows after a growth that failed, cleared by undo and
 * freed by a trim.  Sets of one 4 KiB quantum: set n holds byte n * 4096.
 */
static void table_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 1, SZ_64M, 0);
	loff_t far = (loff_t)(SCULL_TABLE_MAX + 5) * 4096;
	struct scull_qset *qs = NULL;
	struct scull_pos p;
	bool fresh;
	u8 c = 0;

	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "f", 1, far));
	KUNIT_EXPECT_EQ(test, 0UL, st->table_len);
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "a", 1, 40 * 4096));
	KUNIT_ASSERT_EQ(test, 64UL, st->table_len);
	KUNIT_ASSERT_NOT_NULL(test, st->table[40]);
	KUNIT_EXPECT_EQ(test, 40UL, st->table[40]->index);
	expect_table_matches(test, st);

	/* as if the growth for set 40 had failed: set 40 only in the index */
	down_write(&st->rwsem);
	kvfree(st->table);
	st->table = NULL;
	st->table_len = 0;
	up_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, 1L, store_read(st, &c, 1, 40 * 4096));
	KUNIT_EXPECT_EQ(test, 'a', c);
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "b", 1, 3 * 4096));
	KUNIT_EXPECT_EQ(test, (unsigned long)SCULL_TABLE_MIN, st->table_len);
	KUNIT_EXPECT_EQ(test, 1L, store_write(st, "c", 1, 100 * 4096));
	KUNIT_EXPECT_EQ(test, 128UL, st->table_len);
	KUNIT_ASSERT_NOT_NULL(test, st->table[40]);
	KUNIT_EXPECT_EQ(test, 40UL, st->table[40]->index);
	expect_table_matches(test, st);

	/* the largest table; the set past it is still found */
	KUNIT_EXPECT_EQ(test, 1L,
			store_write(st, "d", 1, (SCULL_TABLE_MAX - 1) * 4096LL));
	KUNIT_EXPECT_EQ(test, (unsigned long)SCULL_TABLE_MAX, st->table_len);
	expect_table_matches(test, st);
	KUNIT_EXPECT_EQ(test, 1L, store_read(st, &c, 1, far));
	KUNIT_EXPECT_EQ(test, 'f', c);
	KUNIT_EXPECT_EQ(test, 1L, store_read(st, &c, 1, 100 * 4096));
	KUNIT_EXPECT_EQ(test, 'c', c);
	KUNIT_EXPECT_EQ(test, 1L, store_read(st, &c, 1, 41 * 4096));
	KUNIT_EXPECT_EQ(test, 0, c);

	/*
	 * a set undone leaves no entry behind (the last set takes the table
	 * with it: write_undo_test)
	 */
	down_write(&st->rwsem);
	scull_pos_decode(st, 7 * 4096, &p);
	KUNIT_ASSERT_FALSE(test, IS_ERR(scull_quantum_get(st, &qs, &p, &fresh)));
	KUNIT_EXPECT_PTR_EQ(test, qs, st->table[7]);
	scull_write_undo(st, qs, &p, fresh);
	KUNIT_EXPECT_NULL(test, st->table[7]);
	expect_table_matches(test, st);
	up_write(&st->rwsem);

	store_free(st);
	KUNIT_EXPECT_NULL(test, st->table);
	KUNIT_EXPECT_EQ(test, 0UL, st->table_len);
}

/* A fixed-capacity store: its size from the start, trims keep it. */
static void capacity_test(struct kunit *test)
{
	struct scull_store *st = store_new(test, 4096, 512, SZ_1M, SZ_64K);
	u8 back[16];

	KUNIT_EXPECT_EQ(test, (loff_t)SZ_64K, st->size);
	KUNIT_EXPECT_EQ(test, 16L, store_read(st, back, 16, 100));
	KUNIT_EXPECT_EQ(test, 0L, store_read(st, back, 16, SZ_64K));
	KUNIT_EXPECT_EQ(test, -ENOSPC, store_write(st, "z", 1, SZ_64K));
	KUNIT_EXPECT_EQ(test, 3L, store_write(st, "xyz", 3, SZ_64K - 3));
	KUNIT_EXPECT_EQ(test, (loff_t)SZ_64K, st->size);
	down_write(&st->rwsem);
	KUNIT_EXPECT_EQ(test, -EBUSY, scull_store_set_capacity(st, 1000));
	KUNIT_EXPECT_EQ(test, -EINVAL, scull_store_set_capacity(st, SZ_2M));
	KUNIT_EXPECT_EQ(test, 0, scull_store_set_capacity(st, 0));
	KUNIT_EXPECT_EQ(test, (loff_t)SZ_64K, st->size);
	KUNIT_EXPECT_EQ(test, 0, scull_store_set_capacity(st, SZ_128K));
	scull_store_trim(st);
	KUNIT_EXPECT_EQ(test, (loff_t)SZ_128K, st->size);
	KUNIT_EXPECT_EQ(test, 0UL, st->nr_quanta);
	up_write(&st->rwsem);
}

static struct kunit_case scull_storage_cases[] = {
	KUNIT_CASE(pos_decode_test),
	KUNIT_CASE(geometry_check_test),
	KUNIT_CASE(write_read_test),
	KUNIT_CASE(hole_test),
	KUNIT_CASE(limit_test),
	KUNIT_CASE(set_geometry_test),
	KUNIT_CASE(seek_data_hole_test),
	KUNIT_CASE(write_undo_test),
	KUNIT_CASE(capacity_test),
	KUNIT_CASE(table_test),
	{}
};

static struct kunit_suite scull_storage_suite = {
	.name = "scull_storage",
	.test_cases = scull_storage_cases,
};

kunit_test_suite(scull_storage_suite);

MODULE_DESCRIPTION("KUnit tests of scull's storage layer");
MODULE_LICENSE("GPL");
