/* The agent's operations (docs/protocol.md), in dispatch order: the one
 * list both the agent's table (main.c) and the harness's scenario checker
 * (harness/scenario/plan.c, which refuses an unknown `op:`) are made from.
 * X(name, function); the harness uses only the names. */
#ifndef IA_OPS_H
#define IA_OPS_H

#define IA_OPS(X)                                                                                  \
	X("info", ia_op_info)                                                                      \
	X("stat", ia_op_stat)                                                                      \
	X("read", ia_op_read)                                                                      \
	X("sha256", ia_op_sha256)                                                                  \
	X("list", ia_op_list)                                                                      \
	X("readlink", ia_op_readlink)                                                              \
	X("write", ia_op_write)                                                                    \
	X("mkdir", ia_op_mkdir)                                                                    \
	X("mknod", ia_op_mknod)                                                                    \
	X("symlink", ia_op_symlink)                                                                \
	X("chmod", ia_op_chmod)                                                                    \
	X("copy", ia_op_copy)                                                                      \
	X("mount", ia_op_mount)                                                                    \
	X("umount", ia_op_umount)                                                                  \
	X("mounts", ia_op_mounts)                                                                  \
	X("modules", ia_op_modules)                                                                \
	X("md_assemble", ia_op_md_assemble)                                                        \
	X("run", ia_op_run)                                                                        \
	X("switch_root", ia_op_switch_root)                                                        \
	X("pivot_root", ia_op_pivot_root)                                                          \
	X("exit", op_exit)                                                                         \
	X("kill", op_kill)                                                                         \
	X("sync", ia_op_sync)                                                                      \
	X("poweroff", op_poweroff)                                                                 \
	X("reboot", op_reboot)

#endif
