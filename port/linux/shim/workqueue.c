// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The system workqueue of linux/workqueue.h: one worker thread, started on
 * the first queue_work(), running queued work items in FIFO order.
 *
 * Why no wake-up is lost (the property the ported code relies on):
 *
 *  A caller C does its stores (for pgtable-generic.c: the llist_add()),
 *  then fetch_or(PENDING), acq_rel.
 *  - If C saw PENDING clear, C queues the work under wq.lock and signals;
 *    the worker checks its queue under the same lock before it sleeps, so
 *    the signal cannot fall between its check and its wait.  The execution
 *    C queued starts after C's unlock, hence after C's stores.
 *  - If C saw PENDING set, the work is queued and its PENDING has not been
 *    cleared yet (the clear is an RMW later in the word's modification
 *    order than C's fetch_or).  The worker's clear, an acq_rel fetch_and,
 *    reads from the release sequence headed by C's fetch_or (all writes to
 *    the word are RMWs), so C's stores happen-before everything the function
 *    does after the clear: the execution that follows sees them.
 *  An execution that already cleared PENDING when C ran is not relied on:
 *  C saw PENDING clear and queued a new one (first case).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/workqueue.h>

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;		/* the queue became non-empty */
	pthread_cond_t idle;		/* an execution finished */
	struct work_struct *head, *tail;	/* FIFO of queued work */
	struct work_struct *running;	/* the work being executed, or NULL */
	unsigned long runs;
	pthread_once_t once;
	pthread_t thread;
} wq = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
};

static void *worker_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct work_struct *work;

		pthread_mutex_lock(&wq.lock);
		while (!wq.head)
			pthread_cond_wait(&wq.more, &wq.lock);
		work = wq.head;
		wq.head = work->entry;
		if (!wq.head)
			wq.tail = NULL;
		work->entry = NULL;
		wq.running = work;
		pthread_mutex_unlock(&wq.lock);

		/*
		 * Clear PENDING before the function runs, as the kernel does:
		 * from here on a queue_work() queues a new execution.
		 * acq_rel: acquire is the half that matters (see the top of
		 * this file); release keeps this execution's earlier accesses
		 * before a re-queue's, for symmetry with the kernel's smp_mb().
		 */
		atomic_fetch_and_explicit(&work->data, ~WORK_STRUCT_PENDING,
					  memory_order_acq_rel);
		work->func(work);

		pthread_mutex_lock(&wq.lock);
		wq.running = NULL;
		wq.runs++;
		pthread_cond_broadcast(&wq.idle);
		pthread_mutex_unlock(&wq.lock);
	}
	return NULL;
}

static void start_worker(void)
{
	pthread_attr_t attr;

	/*
	 * Detached: the worker lives as long as the process, like the
	 * kernel's kworkers; exit() ends it.
	 */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&wq.thread, &attr, worker_thread, NULL)) {
		fprintf(stderr, "shim workqueue: cannot start the worker thread\n");
		abort();
	}
	pthread_attr_destroy(&attr);
}

/* Distinct non-NULL names; nothing dereferences them. */
static char system_wq_name, system_dfl_wq_name;
struct workqueue_struct *system_wq = (struct workqueue_struct *)&system_wq_name;
struct workqueue_struct *system_dfl_wq = (struct workqueue_struct *)&system_dfl_wq_name;

bool queue_work(struct workqueue_struct *workqueue, struct work_struct *work)
{
	if (!workqueue) {
		fprintf(stderr, "shim workqueue: queue_work() on a NULL workqueue\n");
		abort();
	}
	/*
	 * acq_rel: release publishes the caller's earlier stores to the
	 * execution that clears PENDING after this (top of file); acquire is
	 * not needed for that, but makes this the kernel's fully ordered
	 * test_and_set_bit() as far as C11 RMWs go.
	 */
	if (atomic_fetch_or_explicit(&work->data, WORK_STRUCT_PENDING, memory_order_acq_rel) &
	    WORK_STRUCT_PENDING)
		return false;

	pthread_once(&wq.once, start_worker);
	pthread_mutex_lock(&wq.lock);
	work->entry = NULL;
	if (wq.tail)
		wq.tail->entry = work;
	else
		wq.head = work;
	wq.tail = work;
	pthread_cond_signal(&wq.more);
	pthread_mutex_unlock(&wq.lock);
	return true;
}

static bool queued_locked(const struct work_struct *work)
{
	for (const struct work_struct *w = wq.head; w; w = w->entry)
		if (w == work)
			return true;
	return false;
}

bool flush_work(struct work_struct *work)
{
	bool waited = false;

	pthread_mutex_lock(&wq.lock);
	while (wq.running == work || queued_locked(work)) {
		pthread_cond_wait(&wq.idle, &wq.lock);
		waited = true;
	}
	pthread_mutex_unlock(&wq.lock);
	return waited;
}

void flush_scheduled_work(void)
{
	pthread_mutex_lock(&wq.lock);
	while (wq.running || wq.head)
		pthread_cond_wait(&wq.idle, &wq.lock);
	pthread_mutex_unlock(&wq.lock);
}

void flush_workqueue(struct workqueue_struct *workqueue)
{
	(void)workqueue;
	flush_scheduled_work();
}

unsigned long shim_workqueue_runs(void)
{
	unsigned long runs;

	pthread_mutex_lock(&wq.lock);
	runs = wq.runs;
	pthread_mutex_unlock(&wq.lock);
	return runs;
}
