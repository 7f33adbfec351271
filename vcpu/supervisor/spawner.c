/* spawner.c: the thread every device server is forked from. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "vcpu/supervisor/spawner.h"

static pthread_mutex_t spawner_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawner_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t spawner_call_lock = PTHREAD_MUTEX_INITIALIZER;
static bool spawner_started;
/* The one call in progress (spawner_call_lock serializes callers). */
static pid_t (*spawner_fn)(void *);
static void *spawner_arg;
static pid_t spawner_ret;
static bool spawner_done;

static void *spawner_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&spawner_lock);
	for (;;) {
		while (!spawner_fn)
			pthread_cond_wait(&spawner_cond, &spawner_lock);
		spawner_ret = spawner_fn(spawner_arg);
		spawner_fn = NULL;
		spawner_done = true;
		pthread_cond_broadcast(&spawner_cond);
	}
	return NULL;
}

static int spawner_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (spawner_started)
		return 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, spawner_main, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	spawner_started = true;
	return 0;
}

pid_t spawner_call(pid_t (*fn)(void *arg), void *arg)
{
	pid_t ret;

	pthread_mutex_lock(&spawner_call_lock);
	pthread_mutex_lock(&spawner_lock);
	ret = spawner_start();
	if (!ret) {
		spawner_fn = fn;
		spawner_arg = arg;
		spawner_done = false;
		pthread_cond_broadcast(&spawner_cond);
		while (!spawner_done)
			pthread_cond_wait(&spawner_cond, &spawner_lock);
		ret = spawner_ret;
	}
	pthread_mutex_unlock(&spawner_lock);
	pthread_mutex_unlock(&spawner_call_lock);
	return ret;
}
