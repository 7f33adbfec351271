// SPDX-License-Identifier: GPL-2.0
/*
 * isovm.c: Linux guest glue for isovm: power-off and panic reports through
 * the isovm port, and registration of the VMM's virtio-mmio devices.
 *
 * Stock distribution kernels build virtio_mmio as a module without
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so the "virtio_mmio.device=" entries
 * the VMM puts on the command line find no reader. The initramfs passes
 * them here as "device=" parameters and this module creates the
 * "virtio-mmio" platform devices the virtio_mmio driver binds to.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/platform_device.h>
#include <linux/reboot.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "isovm_abi.h"

/* Longest accepted "size@base:irq[:id]" entry, with room to spare. */
#define ISOVM_DEV_ARG_MAX 64
/* A virtio-mmio window is a few hundred bytes; refuse absurd sizes. */
#define ISOVM_DEV_SIZE_MAX (1ull << 20)
/* Legacy PIC/IOAPIC lines and the low GSIs a VMM hands out. */
#define ISOVM_DEV_IRQ_MAX 1023

static char *device[ISOVM_VIRTIO_MMIO_MAX];
static unsigned int device_count;
module_param_array(device, charp, &device_count, 0444);
MODULE_PARM_DESC(
	device,
	"virtio-mmio devices, as virtio_mmio.device=: size@base:irq[:id]");

static bool port_optional;
module_param(port_optional, bool, 0444);
MODULE_PARM_DESC(port_optional,
		 "load without the isovm port (devices only; for other VMMs)");

static bool isovm_port_present;
static struct platform_device *isovm_pdevs[ISOVM_VIRTIO_MMIO_MAX];
static struct sys_off_handler *isovm_poweroff_handler;

static bool isovm_irq_owned;

/* Process context: the kernel's orderly power-off (poweroff_cmd, then a
 * forced one if that cannot run). */
static void isovm_button_work(struct work_struct *w)
{
	pr_info("power button: powering off\n");
	orderly_poweroff(true);
}
static DECLARE_WORK(isovm_button, isovm_button_work);

/* ISOVM_EVENT_IRQ: read (and so clear) the pending events. */
static irqreturn_t isovm_event_irq(int irq, void *dev)
{
	u32 ev = inl(ISOVM_PORT_EVENTS);

	if (!(ev & ISOVM_EVENT_POWEROFF))
		return IRQ_NONE;
	schedule_work(&isovm_button);
	return IRQ_HANDLED;
}

static void isovm_port_cmd(u32 cmd)
{
	outl(cmd, ISOVM_PORT);
}

/* The VMM stops the vCPUs on this write; returning means it did not. */
static int isovm_poweroff(struct sys_off_data *data)
{
	isovm_port_cmd(ISOVM_CMD_POWEROFF);
	return NOTIFY_DONE;
}

/* Runs in panic context: one port write, nothing that can sleep or lock. */
static int isovm_panic(struct notifier_block *nb, unsigned long event,
		       void *msg)
{
	isovm_port_cmd(ISOVM_CMD_PANIC);
	return NOTIFY_DONE;
}

static struct notifier_block isovm_panic_nb = {
	.notifier_call = isovm_panic,
	/* Report before other notifiers get a chance to hang. */
	.priority = INT_MAX,
};

/*
 * Claims the port and reads its magic. Returns 0 when isovm answers,
 * -ENODEV when nothing (or something else) sits on the port, -EBUSY when
 * another driver owns it. On success the region stays claimed.
 */
static int isovm_port_probe(void)
{
	u32 magic;

	if (!request_region(ISOVM_PORT, ISOVM_PORT_LEN, "isovm"))
		return -EBUSY;
	magic = inl(ISOVM_PORT);
	if (magic != ISOVM_PORT_MAGIC) {
		release_region(ISOVM_PORT, ISOVM_PORT_LEN);
		pr_info("no isovm port (read 0x%08x)\n", magic);
		return -ENODEV;
	}
	return 0;
}

static int isovm_parse_u64(char *tok, u64 *out)
{
	if (!tok || !*tok)
		return -EINVAL;
	return kstrtoull(tok, 0, out);
}

/*
 * Parses "size@base:irq[:id]" (the virtio_mmio.device= syntax; size takes
 * K/M/G suffixes) into two resources. Works on a copy: the parameter
 * string came from user space.
 */
static int isovm_dev_parse(const char *arg, struct resource res[2])
{
	char buf[ISOVM_DEV_ARG_MAX];
	char *cur = buf, *tok, *end;
	u64 size, base, irq;
	int ret;

	if (strscpy(buf, arg, sizeof(buf)) < 0)
		return -E2BIG;

	tok = strsep(&cur, "@");
	if (!cur || !*tok)
		return -EINVAL;
	size = memparse(tok, &end);
	if (*end || size == 0 || size > ISOVM_DEV_SIZE_MAX)
		return -EINVAL;

	ret = isovm_parse_u64(strsep(&cur, ":"), &base);
	if (ret)
		return ret;
	if (!cur)
		return -EINVAL;
	/* The optional ":id" is accepted and ignored: ids are assigned here. */
	ret = isovm_parse_u64(strsep(&cur, ":"), &irq);
	if (ret)
		return ret;
	if (irq == 0 || irq > ISOVM_DEV_IRQ_MAX)
		return -ERANGE;
	if (base + size - 1 < base || base + size - 1 > (u64)PHYS_ADDR_MAX)
		return -ERANGE;

	memset(res, 0, 2 * sizeof(res[0]));
	res[0].flags = IORESOURCE_MEM;
	res[0].start = base;
	res[0].end = base + size - 1;
	res[1].flags = IORESOURCE_IRQ;
	res[1].start = irq;
	res[1].end = irq;
	return 0;
}

static void isovm_devs_unregister(void)
{
	int i;

	for (i = ISOVM_VIRTIO_MMIO_MAX - 1; i >= 0; i--) {
		if (isovm_pdevs[i])
			platform_device_unregister(isovm_pdevs[i]);
		isovm_pdevs[i] = NULL;
	}
}

/* A bad entry is skipped with a message: the other devices still work. */
static void isovm_devs_register(void)
{
	struct platform_device *pdev;
	struct resource res[2];
	unsigned int i;
	int ret;

	for (i = 0; i < device_count && i < ISOVM_VIRTIO_MMIO_MAX; i++) {
		ret = isovm_dev_parse(device[i], res);
		if (ret) {
			pr_err("bad device \"%s\": %d\n", device[i], ret);
			continue;
		}
		pdev = platform_device_register_resndata(NULL, "virtio-mmio",
							 PLATFORM_DEVID_AUTO,
							 res, 2, NULL, 0);
		if (IS_ERR(pdev)) {
			pr_err("cannot register %s: %ld\n", device[i],
			       PTR_ERR(pdev));
			continue;
		}
		isovm_pdevs[i] = pdev;
		pr_info("virtio-mmio device at %pa irq %llu\n", &res[0].start,
			(unsigned long long)res[1].start);
	}
}

static int isovm_hooks_install(void)
{
	int ret;

	isovm_poweroff_handler = register_sys_off_handler(
		SYS_OFF_MODE_POWER_OFF, SYS_OFF_PRIO_HIGH, isovm_poweroff,
		NULL);
	if (IS_ERR(isovm_poweroff_handler)) {
		ret = PTR_ERR(isovm_poweroff_handler);
		isovm_poweroff_handler = NULL;
		return ret;
	}
	atomic_notifier_chain_register(&panic_notifier_list, &isovm_panic_nb);
	/* The power button; without it isovmctl shutdown ends in the VMM's
	 * hard stop, so a busy line is only worth a warning. */
	ret = request_irq(ISOVM_EVENT_IRQ, isovm_event_irq, 0, "isovm", NULL);
	if (ret)
		pr_warn("no power button: IRQ %d: %d\n", ISOVM_EVENT_IRQ, ret);
	isovm_irq_owned = !ret;
	return 0;
}

static void isovm_hooks_remove(void)
{
	if (isovm_irq_owned)
		free_irq(ISOVM_EVENT_IRQ, NULL);
	isovm_irq_owned = false;
	cancel_work_sync(&isovm_button);
	atomic_notifier_chain_unregister(&panic_notifier_list, &isovm_panic_nb);
	unregister_sys_off_handler(isovm_poweroff_handler);
	isovm_poweroff_handler = NULL;
}

static int __init isovm_init(void)
{
	int ret;

	ret = isovm_port_probe();
	if (ret && !(ret == -ENODEV && port_optional))
		return ret;
	isovm_port_present = !ret;

	if (isovm_port_present) {
		ret = isovm_hooks_install();
		if (ret)
			goto err_release_port;
	}
	isovm_devs_register();
	pr_info("loaded (port %s, %u device entries)\n",
		isovm_port_present ? "present" : "absent", device_count);
	return 0;

err_release_port:
	release_region(ISOVM_PORT, ISOVM_PORT_LEN);
	return ret;
}

static void __exit isovm_exit(void)
{
	isovm_devs_unregister();
	if (isovm_port_present) {
		isovm_hooks_remove();
		release_region(ISOVM_PORT, ISOVM_PORT_LEN);
	}
}

module_init(isovm_init);
module_exit(isovm_exit);

MODULE_DESCRIPTION(
	"isovm guest support: power-off, panic report, virtio-mmio devices");
MODULE_LICENSE("GPL");
