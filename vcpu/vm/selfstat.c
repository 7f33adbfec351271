/* selfstat.c: the VMM's own start-up time and footprint, for benchmarks. */
#include "vcpu/vm/selfstat.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vcpu/log.h"

void selfstat_first_run(void)
{
	static atomic_bool done;
	struct timespec ts;

	if (log_get_level() < LOG_LVL_DEBUG || atomic_exchange(&done, true))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	log_debug("timing: first_kvm_run_mono=%lld.%09ld", (long long)ts.tv_sec,
		  ts.tv_nsec);
}

static unsigned long selfstat_kb(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	unsigned long kb = 0;

	if (p)
		sscanf(p + strlen(key), " %lu", &kb);
	return kb;
}

void selfstat_log_memory(void)
{
	char status[4096];
	FILE *f;

	/* Only benchmarks ask for it: no file I/O at every exit otherwise. */
	if (log_get_level() < LOG_LVL_DEBUG)
		return;
	f = fopen("/proc/self/status", "re");
	size_t n;

	if (!f)
		return;
	n = fread(status, 1, sizeof(status) - 1, f);
	fclose(f);
	status[n] = '\0';
	log_debug("memory: rss_excl_guest_kb=%lu rss_anon_kb=%lu rss_file_kb=%lu rss_shmem_kb=%lu vm_hwm_kb=%lu",
		  selfstat_kb(status, "RssAnon:") + selfstat_kb(status, "RssFile:"),
		  selfstat_kb(status, "RssAnon:"), selfstat_kb(status, "RssFile:"),
		  selfstat_kb(status, "RssShmem:"), selfstat_kb(status, "VmHWM:"));
}
