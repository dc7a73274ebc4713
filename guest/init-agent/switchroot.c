#include "agent.h"
#include <errno.h>
int ia_op_switch_root(struct ia_req *r, struct ia_json *j)
{
	return ia_fail(ENOSYS, "switch_root: not yet");
}
