/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Our own declarations of what tcmu-runner 1.5.4 shares with a handler
 * plugin (Debian ships no headers).  Facts: docs in shared/tcmu-runner-abi.md,
 * checked against the installed binaries.  Sizes and offsets are asserted so a
 * mismatch fails the build, not a target.
 */
#ifndef VLUN_TCMU_ABI_H
#define VLUN_TCMU_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

struct tcmu_device; /* opaque */

struct tcmulib_cmd {
	uint16_t cmd_id;
	uint8_t *cdb;
	struct iovec *iovec;
	size_t iov_cnt;
	uint8_t sense_buf[96];
	void *hm_private;
};
_Static_assert(sizeof(struct tcmulib_cmd) == 136, "tcmulib_cmd size");
_Static_assert(offsetof(struct tcmulib_cmd, cdb) == 8, "tcmulib_cmd.cdb");
_Static_assert(offsetof(struct tcmulib_cmd, sense_buf) == 32, "tcmulib_cmd.sense_buf");
_Static_assert(offsetof(struct tcmulib_cmd, hm_private) == 128, "tcmulib_cmd.hm_private");

/* Only lib_cmd is read; the rest is the runner's. */
struct tcmur_cmd {
	struct tcmulib_cmd *lib_cmd;
	uint8_t opaque[88];
};
_Static_assert(sizeof(struct tcmur_cmd) == 96, "tcmur_cmd size");

enum { TCMULIB_CFG_DEV_CFGSTR = 0, TCMULIB_CFG_DEV_SIZE = 1, TCMULIB_CFG_WRITE_CACHE = 2 };

struct tcmulib_cfg_info {
	int type;
	union {
		uint64_t dev_size;
		char *dev_cfgstring;
		bool write_cache;
	} data;
};
_Static_assert(offsetof(struct tcmulib_cfg_info, data) == 8, "cfg_info.data");

struct tcmur_handler {
	const char *name;
	const char *subtype;
	const char *cfg_desc;
	void *opaque;
	bool (*check_config)(const char *cfgstring, char **reason);
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
	int (*open)(struct tcmu_device *dev, bool reopen);
	void (*close)(struct tcmu_device *dev);
	int nr_threads;
	int (*handle_cmd)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*read)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off);
	int (*write)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off);
	int (*flush)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*unmap)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len);
	int (*writesame)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
			 struct iovec *iov, size_t iov_cnt);
	int (*caw)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		   struct iovec *iov, size_t iov_cnt);
	int (*report_event)(struct tcmu_device *dev);
	int (*lock)(struct tcmu_device *dev, uint16_t tag);
	int (*unlock)(struct tcmu_device *dev);
	int (*get_lock_tag)(struct tcmu_device *dev, uint16_t *tag);
	int (*get_lock_state)(struct tcmu_device *dev);
	bool _is_dbus_handler;
	bool (*update_logdir)(void);
	int (*init)(void);
	void (*destroy)(void);
};
_Static_assert(sizeof(struct tcmur_handler) == 200, "tcmur_handler size");
_Static_assert(offsetof(struct tcmur_handler, check_config) == 32, "check_config");
_Static_assert(offsetof(struct tcmur_handler, nr_threads) == 64, "nr_threads");
_Static_assert(offsetof(struct tcmur_handler, handle_cmd) == 72, "handle_cmd");
_Static_assert(offsetof(struct tcmur_handler, read) == 80, "read");
_Static_assert(offsetof(struct tcmur_handler, caw) == 120, "caw");
_Static_assert(offsetof(struct tcmur_handler, get_lock_state) == 160, "get_lock_state");
_Static_assert(offsetof(struct tcmur_handler, _is_dbus_handler) == 168, "_is_dbus_handler");
_Static_assert(offsetof(struct tcmur_handler, init) == 184, "init");
_Static_assert(offsetof(struct tcmur_handler, destroy) == 192, "destroy");

/* TCMU_STS_*: what the initiator sees */
enum {
	TCMU_STS_ASYNC_HANDLED = -2,
	TCMU_STS_NOT_HANDLED = -1,
	TCMU_STS_OK = 0,
	TCMU_STS_NO_RESOURCE = 1,
	TCMU_STS_PASSTHROUGH_ERR = 2,
	TCMU_STS_BUSY = 3,
	TCMU_STS_WR_ERR = 4,
	TCMU_STS_RD_ERR = 5,
	TCMU_STS_MISCOMPARE = 6,
	TCMU_STS_INVALID_CMD = 7,
	TCMU_STS_INVALID_CDB = 8,
	TCMU_STS_INVALID_PARAM_LIST = 9,
	TCMU_STS_INVALID_PARAM_LIST_LEN = 10,
	TCMU_STS_TIMEOUT = 11,
	TCMU_STS_FENCED = 12,
	TCMU_STS_HW_ERR = 13,
	TCMU_STS_RANGE = 14,
};

/* exported by the tcmu-runner binary */
int tcmur_register_handler(struct tcmur_handler *handler);
void tcmur_dev_set_private(struct tcmu_device *dev, void *priv);
void *tcmur_dev_get_private(struct tcmu_device *dev);
int tcmur_dev_update_size(struct tcmu_device *dev, uint64_t new_size);
void tcmu_notify_lock_lost(struct tcmu_device *dev);
/* completes a command queued with nr_threads = 0; pass the tcmur_cmd received */
void tcmur_cmd_complete(struct tcmu_device *dev, void *tcmur_cmd, int sts);

/* exported by libtcmu.so.2 (loaded by the runner into the global scope) */
char *tcmu_dev_get_cfgstring(struct tcmu_device *dev);
uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev);
uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev);
/* the LUN's maximum transfer in blocks (configfs hw_max_sectors) */
uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev);
void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool enabled);
void tcmu_dev_set_max_unmap_len(struct tcmu_device *dev, uint32_t len);
void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev, uint32_t len, bool split);
void tcmu_dev_set_unmap_gran_align(struct tcmu_device *dev, uint32_t len);
void tcmu_dev_set_solid_state_media(struct tcmu_device *dev, bool solid_state);
void tcmu_err_message(struct tcmu_device *dev, const char *funcname, int linenr,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_warn_message(struct tcmu_device *dev, const char *funcname, int linenr,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_info_message(struct tcmu_device *dev, const char *funcname, int linenr,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_dbg_message(struct tcmu_device *dev, const char *funcname, int linenr,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define vl_dev_err(dev, ...) tcmu_err_message(dev, __func__, __LINE__, __VA_ARGS__)
#define vl_dev_warn(dev, ...) tcmu_warn_message(dev, __func__, __LINE__, __VA_ARGS__)
#define vl_dev_info(dev, ...) tcmu_info_message(dev, __func__, __LINE__, __VA_ARGS__)
#define vl_dev_dbg(dev, ...) tcmu_dbg_message(dev, __func__, __LINE__, __VA_ARGS__)

#endif
