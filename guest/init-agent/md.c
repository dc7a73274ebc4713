#include "agent.h"
#include <errno.h>
int ia_op_md_assemble(struct ia_req *r, struct ia_json *j)
{
	return ia_fail(ENOSYS, "md_assemble: not yet");
}
