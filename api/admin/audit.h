/* audit.h - the operators' view of the audit trail. */
#ifndef HERALD_ADMIN_AUDIT_H
#define HERALD_ADMIN_AUDIT_H

#include "http/http.h"

/* GET /api/v1/admin/audit-log */
void h_audit_log_get(struct h_req *rq);

#endif
