/* spawner.c: the VMM's one launcher. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "vcpu/supervisor/spawner.h"

static pthread_mutex_t spawner_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sandbox_launcher spawner_launcher = {.sock = -1};
static bool spawner_started;

int spawner_init(char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&spawner_lock);
	if (!spawner_started) {
		ret = sandbox_launcher_start(&spawner_launcher, err, errlen);
		spawner_started = ret == 0;
	}
	pthread_mutex_unlock(&spawner_lock);
	return ret;
}

pid_t spawner_spawn(const struct sandbox_spawn *sp, int *pidfd, char *warn,
		    size_t warnlen, char *err, size_t errlen)
{
	int ret = spawner_init(err, errlen);

	if (ret)
		return ret;
	/* The launcher serializes requests itself. */
	return sandbox_launcher_spawn(&spawner_launcher, sp, pidfd, warn,
				      warnlen, err, errlen);
}

void spawner_fini(void)
{
	pthread_mutex_lock(&spawner_lock);
	if (spawner_started)
		sandbox_launcher_stop(&spawner_launcher);
	spawner_started = false;
	pthread_mutex_unlock(&spawner_lock);
}
