// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_test_vendor - a vendor driver for testing mdev cores.
 *
 * A plain C client of include/linux/mdev.h, like the in-tree samples, so it
 * loads on the C core and on the Rust core alike.  Unlike the samples it can
 * be made slow or failing at run time, which the behaviour tests need to
 * reach the states they check:
 *
 *   /sys/module/mdev_test_vendor/parameters/
 *     probe_delay_ms, remove_delay_ms   sleep in the create / remove op
 *     probe_errno                        make the create op fail (e.g. 5 = EIO)
 *     hold_ops                           while 1, create and remove ops wait
 *     ops_running                        ops waiting in hold_ops (read-only)
 *     available                          what get_available answers
 *     probes, removes                    how often each op ran (read-only)
 *
 * Load-time parameters: nr_parents (1 to 4), max_instances,
 * use_get_available / describe to leave those optional ops out, and quiet,
 * which drops the log line of each create (`make bench`: the probe then does
 * no work at all, so what is measured is the core).
 * no_api_result shows what mdev_register_driver() answered for a driver
 * without device_api (tried at load, must be -EINVAL).
 *
 * Registrations that fail half-way (reg_race.sh), on the first parent only:
 *   dup_type_name    type b gets type a's sysfs name, as a vendor may write
 *   reg_fail_nth     fail the N-th fault-injection point of the first
 *                    parent's mdev_register_parent() (the task's fail_nth,
 *                    as /proc/self/fail-nth sets it; CONFIG_FAULT_INJECTION)
 *   reg_fail_left    what was left of reg_fail_nth when that call returned
 *                    (read-only): 0 if the failure was injected, else N
 *                    less the points the registration passed
 * A failed registration is logged with its errno ("registration failed").
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/wait.h>

#define MAX_PARENTS 4

static unsigned int nr_parents = 2;
module_param(nr_parents, uint, 0444);
MODULE_PARM_DESC(nr_parents, "Number of parent devices (1 to 4)");

static bool quiet;
module_param(quiet, bool, 0444);
MODULE_PARM_DESC(quiet, "No log line per created device");

static unsigned int max_instances = 8;
module_param(max_instances, uint, 0444);
MODULE_PARM_DESC(max_instances, "max_instances of the driver (without get_available)");

static bool use_get_available;
module_param(use_get_available, bool, 0444);
MODULE_PARM_DESC(use_get_available, "Provide get_available (answers 'available')");

static bool describe = true;
module_param(describe, bool, 0444);
MODULE_PARM_DESC(describe, "Provide show_description");

static unsigned int available = 5;
module_param(available, uint, 0644);
static unsigned int probe_delay_ms;
module_param(probe_delay_ms, uint, 0644);
static unsigned int remove_delay_ms;
module_param(remove_delay_ms, uint, 0644);
static unsigned int probe_errno;
module_param(probe_errno, uint, 0644);

static int no_api_result;
module_param(no_api_result, int, 0444);

static bool dup_type_name;
module_param(dup_type_name, bool, 0444);
MODULE_PARM_DESC(dup_type_name, "Type b of the first parent repeats type a's sysfs name");

static unsigned int reg_fail_nth;
module_param(reg_fail_nth, uint, 0444);
MODULE_PARM_DESC(reg_fail_nth, "Fail the N-th fault-injection point of the first registration");

static unsigned int reg_fail_left;
module_param(reg_fail_left, uint, 0444);

static atomic_t probes = ATOMIC_INIT(0);
static atomic_t removes = ATOMIC_INIT(0);

static int counter_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(kp->arg));
}

static const struct kernel_param_ops counter_ops = { .get = counter_get };
module_param_cb(probes, &counter_ops, &probes, 0444);
module_param_cb(removes, &counter_ops, &removes, 0444);

/*
 * The gate: tests set hold_ops=1, start operations, wait until ops_running
 * shows them all inside the vendor at once, then set hold_ops=0.
 */
static bool hold_ops;
static atomic_t ops_running = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(hold_wq);

static int hold_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	wake_up_all(&hold_wq);
	return ret;
}

static const struct kernel_param_ops hold_ops_ops = {
	.set = hold_set,
	.get = param_get_bool,
};
module_param_cb(hold_ops, &hold_ops_ops, &hold_ops, 0644);
module_param_cb(ops_running, &counter_ops, &ops_running, 0444);

/* msleep(0) would still sleep a jiffy. */
static void delay_ms(unsigned int ms)
{
	if (ms)
		msleep(ms);
}

static void hold_point(void)
{
	atomic_inc(&ops_running);
	if (READ_ONCE(hold_ops))
		wait_event_timeout(hold_wq, !READ_ONCE(hold_ops), 60 * HZ);
	atomic_dec(&ops_running);
}

/*
 * The parent devices come from device_create(), whose release is the driver
 * core's, and the class from class_create(): a release reading this module's
 * memory could run after rmmod when CONFIG_DEBUG_KOBJECT_RELEASE delays it.  The parents and types stay in
 * this module's static memory, as in mtty, to test that the core is done
 * with them when mdev_unregister_parent() returns.
 */
struct test_parent {
	struct device *dev;
	struct mdev_parent parent;
	struct mdev_type type_a, type_b;
	struct mdev_type *types[2];
	bool registered;
};

static struct test_parent parents[MAX_PARENTS];

/* Allocated by class_create(), for the same reason as the devices below. */
static struct class *test_class;

static int test_probe(struct mdev_device *mdev)
{
	unsigned int err = READ_ONCE(probe_errno);

	delay_ms(READ_ONCE(probe_delay_ms));
	hold_point();
	atomic_inc(&probes);
	if (err)
		return -(int)err;
	if (!quiet)
		dev_info(&mdev->dev, "created on %s, type %s\n",
			 dev_name(mdev->type->parent->dev), mdev->type->sysfs_name);
	return 0;
}

static void test_remove(struct mdev_device *mdev)
{
	delay_ms(READ_ONCE(remove_delay_ms));
	hold_point();
	atomic_inc(&removes);
}

static unsigned int test_get_available(struct mdev_type *mtype)
{
	return READ_ONCE(available);
}

static ssize_t test_show_description(struct mdev_type *mtype, char *buf)
{
	return sysfs_emit(buf, "test type %s\n", mtype->sysfs_name);
}

static struct mdev_driver test_driver = {
	.device_api = "vfio-pci",
	.driver = {
		.name = "mdev_test_vendor",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = test_probe,
	.remove = test_remove,
};

/* Only registered to see it refused: it has no device_api. */
static struct mdev_driver no_api_driver = {
	.driver = {
		.name = "mdev_test_no_api",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
};

static void unregister_parents(void)
{
	int i;

	for (i = MAX_PARENTS - 1; i >= 0; i--) {
		if (!parents[i].registered)
			continue;
		mdev_unregister_parent(&parents[i].parent);
		device_unregister(parents[i].dev);
		parents[i].registered = false;
	}
}

/*
 * Armed around the call only, so that only the core's registration counts:
 * the fault-injection points of this task (failslab, with its filters)
 * count down from @fail_nth and the last one fails.
 */
static int register_parent(struct test_parent *p, unsigned int fail_nth)
{
	int ret;

#ifdef CONFIG_FAULT_INJECTION
	if (fail_nth)
		WRITE_ONCE(current->fail_nth, fail_nth);
#endif
	ret = mdev_register_parent(&p->parent, p->dev, &test_driver,
				   p->types, ARRAY_SIZE(p->types));
#ifdef CONFIG_FAULT_INJECTION
	if (fail_nth) {
		reg_fail_left = READ_ONCE(current->fail_nth);
		WRITE_ONCE(current->fail_nth, 0);
	}
#endif
	/*
	 * The module loader turns an init's -EEXIST into -EBUSY: the tests read
	 * the registration's own errno here.
	 */
	if (ret)
		pr_info("mdev_test_vendor: registration failed: %d\n", ret);
	return ret;
}

static int __init test_init(void)
{
	unsigned int i;
	int ret;

	if (nr_parents < 1 || nr_parents > MAX_PARENTS)
		return -EINVAL;
	test_driver.max_instances = max_instances;
	if (use_get_available)
		test_driver.get_available = test_get_available;
	if (describe)
		test_driver.show_description = test_show_description;

	no_api_result = mdev_register_driver(&no_api_driver);
	if (!no_api_result)
		mdev_unregister_driver(&no_api_driver);

	ret = mdev_register_driver(&test_driver);
	if (ret)
		return ret;
	test_class = class_create("mdev_test");
	if (IS_ERR(test_class)) {
		ret = PTR_ERR(test_class);
		goto err_driver;
	}

	for (i = 0; i < nr_parents; i++) {
		struct test_parent *p = &parents[i];

		memset(p, 0, sizeof(*p));
		p->type_a.sysfs_name = "a";
		p->type_a.pretty_name = "Test type A";
		p->type_b.sysfs_name = "b";	/* no pretty_name: name shows "b" */
		p->types[0] = &p->type_a;
		p->types[1] = &p->type_b;
		if (i == 0 && dup_type_name)
			p->type_b.sysfs_name = "a";
		p->dev = device_create(test_class, NULL, 0, NULL, "mdev_test%u", i);
		if (IS_ERR(p->dev)) {
			ret = PTR_ERR(p->dev);
			goto err_parents;
		}
		ret = register_parent(p, i == 0 ? reg_fail_nth : 0);
		if (ret) {
			device_unregister(p->dev);
			goto err_parents;
		}
		p->registered = true;
	}
	return 0;

err_parents:
	unregister_parents();
	class_destroy(test_class);
err_driver:
	mdev_unregister_driver(&test_driver);
	return ret;
}

static void __exit test_exit(void)
{
	unregister_parents();
	class_destroy(test_class);
	mdev_unregister_driver(&test_driver);
	pr_info("mdev_test_vendor: exit: probes=%d removes=%d\n",
		atomic_read(&probes), atomic_read(&removes));
}

module_init(test_init);
module_exit(test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Vendor driver with knobs for testing mdev cores");
