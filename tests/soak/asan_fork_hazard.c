// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Not part of the build: a check of the toolchain, not of pgfree.
 *
 * Does this compiler's AddressSanitizer leave a forked child deadlocked
 * when another thread of the parent was inside malloc() or free() at the
 * fork?  glibc's own malloc locks its arenas around fork(); ASan replaces
 * malloc, and its runtime took the same care only from LLVM 18 on
 * (llvm/llvm-project pull request 75290).  The soak (soak.c) forks while
 * pgfree's drain threads run, and its child starts threads and allocates,
 * so the asan build's soak can meet this.
 *
 * Two threads call malloc() and free() in a loop; the main thread forks N
 * times (default 1000); each child starts a thread that allocates,
 * allocates itself and exits.  A child that is not done within 5 s is
 * killed by its alarm and counted.  No pgfree code is involved.
 *
 *   clang -O1 -g -fsanitize=address -pthread tests/soak/asan_fork_hazard.c -o /tmp/hazard
 *   /tmp/hazard 1000
 *
 * On this project's machine (Debian's Clang 14.0.6) one run of 1000 forks
 * of its first draft (the same threads and loop) had one child hang,
 * killed by SIGALRM; docs/testing.md.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		void *p[64];

		for (int i = 0; i < 64; i++)
			p[i] = malloc(16 + (size_t)(i * 24) % 4000);
		for (int i = 0; i < 64; i++)
			free(p[i]);
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	(void)arg;
	free(malloc(100));
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, hung = 0;
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			pthread_t ct;

			alarm(5);
			pthread_create(&ct, NULL, child_thread, NULL);
			pthread_join(ct, NULL);
			for (int k = 0; k < 100; k++)
				free(malloc(16 + (size_t)k * 40));
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 2;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			hung++;
			printf("fork %d: child status %#x%s\n", i, st,
			       WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? " (hung: its alarm)" : "");
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%d forks, %d children hung or failed\n", n, hung);
	return 0;
}
