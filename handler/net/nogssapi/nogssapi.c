/* sshand-nogssapi.so: a stand-in for MIT Kerberos's libgssapi_krb5, so
 * that the network child has no Kerberos code mapped.
 *
 * Debian's libssh needs libgssapi_krb5.so.2, which brings libkrb5,
 * libk5crypto, libkrb5support, libcom_err, libkeyutils and libresolv.
 * Loading, relocating and tearing those down was the largest single cost
 * of the network child (1.5 ms of CPU per connection, of about 19), for a
 * method sshand never offers: gssapi-with-mic.  This object carries the
 * library's soname, and the front loads it before sshand-net.so (see
 * front/main.c): the dynamic loader then binds libssh's dependency to it
 * instead of opening the real library (it matches a dependency by the
 * soname of what is already loaded).  Less code in the process that
 * parses strangers' bytes, too.
 *
 * What libssh can be made to call here: a client may send a
 * gssapi-with-mic request whatever the server offers, and libssh answers
 * it itself (ssh_gssapi_handle_userauth).  gss_indicate_mechs() says "no
 * mechanism", so libssh finds no common mechanism and sends a plain
 * failure, as with a Kerberos that has none configured; every other call
 * fails.  Every output is cleared and every minor status zeroed before
 * returning, so nothing the caller reads afterwards is undefined.
 *
 * The symbols carry the library's version (nogssapi.map).  The build
 * checks that this file defines every GSSAPI function the system's libssh
 * imports; should an upgraded libssh import one more, the front loads the
 * real library instead, and says so.
 */
#include <stddef.h>
#include <stdint.h>

/* MIT's ABI (gssapi/gssapi.h), which this must match: only pointers and
 * 32-bit integers cross it. */
typedef uint32_t OM_uint32;
typedef struct { OM_uint32 length; void *elements; } gss_OID_desc, *gss_OID;
typedef struct { size_t count; gss_OID elements; } gss_OID_set_desc, *gss_OID_set;
typedef struct { size_t length; void *value; } gss_buffer_desc, *gss_buffer_t;
typedef void *gss_name_t, *gss_cred_id_t, *gss_ctx_id_t, *gss_channel_bindings_t;
typedef int gss_cred_usage_t;
typedef OM_uint32 gss_qop_t;

#define GSS_S_COMPLETE	0u
#define GSS_S_FAILURE	(13u << 16)

#define EXPORT	__attribute__((visibility("default")))

/* Not used for anything but their addresses: libssh passes them to
 * gss_import_name(), which fails.  The values are RFC 2743's. */
static gss_OID_desc nt_hostbased = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
static gss_OID_desc nt_user = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01" };
EXPORT gss_OID GSS_C_NT_HOSTBASED_SERVICE = &nt_hostbased;
EXPORT gss_OID GSS_C_NT_USER_NAME = &nt_user;

/* The set of mechanisms: none.  Never written to (no call here adds to a
 * set) and never freed (releasing a set only clears the caller's
 * pointer). */
static gss_OID_set_desc no_mechs = { 0, NULL };

static OM_uint32
fail(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_FAILURE;
}

static OM_uint32
done(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_COMPLETE;
}

static void
clear_buffer(gss_buffer_t b)
{
	if (b != NULL) {
		b->length = 0;
		b->value = NULL;
	}
}

#define CLEAR(p)	do { if ((p) != NULL) *(p) = 0; } while (0)
#define CLEAR_PTR(p)	do { if ((p) != NULL) *(p) = NULL; } while (0)

EXPORT OM_uint32 gss_indicate_mechs(OM_uint32 *, gss_OID_set *);
OM_uint32
gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mech_set)
{
	if (mech_set == NULL)
		return fail(minor);
	*mech_set = &no_mechs;
	return done(minor);
}

EXPORT OM_uint32 gss_test_oid_set_member(OM_uint32 *, gss_OID, gss_OID_set, int *);
OM_uint32
gss_test_oid_set_member(OM_uint32 *minor, gss_OID member, gss_OID_set set, int *present)
{
	(void)member;
	(void)set;
	if (present == NULL)
		return fail(minor);
	*present = 0;
	return done(minor);
}

EXPORT OM_uint32 gss_create_empty_oid_set(OM_uint32 *, gss_OID_set *);
OM_uint32
gss_create_empty_oid_set(OM_uint32 *minor, gss_OID_set *oid_set)
{
	CLEAR_PTR(oid_set);
	return fail(minor);
}

EXPORT OM_uint32 gss_add_oid_set_member(OM_uint32 *, gss_OID, gss_OID_set *);
OM_uint32
gss_add_oid_set_member(OM_uint32 *minor, gss_OID member, gss_OID_set *oid_set)
{
	(void)member;
	(void)oid_set;
	return fail(minor);
}

EXPORT OM_uint32 gss_release_oid_set(OM_uint32 *, gss_OID_set *);
OM_uint32
gss_release_oid_set(OM_uint32 *minor, gss_OID_set *set)
{
	CLEAR_PTR(set);
	return done(minor);
}

EXPORT OM_uint32 gss_release_buffer(OM_uint32 *, gss_buffer_t);
OM_uint32
gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer)
{
	clear_buffer(buffer);
	return done(minor);
}

EXPORT OM_uint32 gss_release_cred(OM_uint32 *, gss_cred_id_t *);
OM_uint32
gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
	CLEAR_PTR(cred);
	return done(minor);
}

EXPORT OM_uint32 gss_release_name(OM_uint32 *, gss_name_t *);
OM_uint32
gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
	CLEAR_PTR(name);
	return done(minor);
}

EXPORT OM_uint32 gss_display_status(OM_uint32 *, OM_uint32, int, gss_OID, OM_uint32 *,
    gss_buffer_t);
OM_uint32
gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_OID mech,
    OM_uint32 *message_context, gss_buffer_t string)
{
	(void)status;
	(void)type;
	(void)mech;
	CLEAR(message_context);
	clear_buffer(string);
	return fail(minor);
}

EXPORT OM_uint32 gss_display_name(OM_uint32 *, gss_name_t, gss_buffer_t, gss_OID *);
OM_uint32
gss_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t buffer, gss_OID *type)
{
	(void)name;
	clear_buffer(buffer);
	CLEAR_PTR(type);
	return fail(minor);
}

EXPORT OM_uint32 gss_import_name(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
OM_uint32
gss_import_name(OM_uint32 *minor, gss_buffer_t buffer, gss_OID type, gss_name_t *name)
{
	(void)buffer;
	(void)type;
	CLEAR_PTR(name);
	return fail(minor);
}

EXPORT OM_uint32 gss_acquire_cred(OM_uint32 *, gss_name_t, OM_uint32, gss_OID_set,
    gss_cred_usage_t, gss_cred_id_t *, gss_OID_set *, OM_uint32 *);
OM_uint32
gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req,
    gss_OID_set mechs, gss_cred_usage_t usage, gss_cred_id_t *cred,
    gss_OID_set *actual_mechs, OM_uint32 *time_rec)
{
	(void)name;
	(void)time_req;
	(void)mechs;
	(void)usage;
	CLEAR_PTR(cred);
	CLEAR_PTR(actual_mechs);
	CLEAR(time_rec);
	return fail(minor);
}

EXPORT OM_uint32 gss_inquire_cred(OM_uint32 *, gss_cred_id_t, gss_name_t *, OM_uint32 *,
    gss_cred_usage_t *, gss_OID_set *);
OM_uint32
gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t cred, gss_name_t *name,
    OM_uint32 *lifetime, gss_cred_usage_t *usage, gss_OID_set *mechs)
{
	(void)cred;
	CLEAR_PTR(name);
	CLEAR(lifetime);
	CLEAR(usage);
	CLEAR_PTR(mechs);
	return fail(minor);
}

EXPORT OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *, gss_cred_id_t, gss_OID, gss_name_t *,
    OM_uint32 *, OM_uint32 *, gss_cred_usage_t *);
OM_uint32
gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t cred, gss_OID mech,
    gss_name_t *name, OM_uint32 *init_lifetime, OM_uint32 *accept_lifetime,
    gss_cred_usage_t *usage)
{
	(void)cred;
	(void)mech;
	CLEAR_PTR(name);
	CLEAR(init_lifetime);
	CLEAR(accept_lifetime);
	CLEAR(usage);
	return fail(minor);
}

EXPORT OM_uint32 gss_accept_sec_context(OM_uint32 *, gss_ctx_id_t *, gss_cred_id_t,
    gss_buffer_t, gss_channel_bindings_t, gss_name_t *, gss_OID *, gss_buffer_t,
    OM_uint32 *, OM_uint32 *, gss_cred_id_t *);
OM_uint32
gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred,
    gss_buffer_t input, gss_channel_bindings_t bindings, gss_name_t *src_name,
    gss_OID *mech, gss_buffer_t output, OM_uint32 *flags, OM_uint32 *time_rec,
    gss_cred_id_t *delegated)
{
	(void)ctx;	/* the caller's context is left as it was: there is none */
	(void)cred;
	(void)input;
	(void)bindings;
	CLEAR_PTR(src_name);
	CLEAR_PTR(mech);
	clear_buffer(output);
	CLEAR(flags);
	CLEAR(time_rec);
	CLEAR_PTR(delegated);
	return fail(minor);
}

EXPORT OM_uint32 gss_init_sec_context(OM_uint32 *, gss_cred_id_t, gss_ctx_id_t *,
    gss_name_t, gss_OID, OM_uint32, OM_uint32, gss_channel_bindings_t, gss_buffer_t,
    gss_OID *, gss_buffer_t, OM_uint32 *, OM_uint32 *);
OM_uint32
gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
    gss_name_t target, gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
    gss_channel_bindings_t bindings, gss_buffer_t input, gss_OID *actual_mech,
    gss_buffer_t output, OM_uint32 *flags, OM_uint32 *time_rec)
{
	(void)cred;
	(void)ctx;
	(void)target;
	(void)mech;
	(void)req_flags;
	(void)time_req;
	(void)bindings;
	(void)input;
	CLEAR_PTR(actual_mech);
	clear_buffer(output);
	CLEAR(flags);
	CLEAR(time_rec);
	return fail(minor);
}

EXPORT OM_uint32 gss_get_mic(OM_uint32 *, gss_ctx_id_t, gss_qop_t, gss_buffer_t, gss_buffer_t);
OM_uint32
gss_get_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_qop_t qop, gss_buffer_t message,
    gss_buffer_t token)
{
	(void)ctx;
	(void)qop;
	(void)message;
	clear_buffer(token);
	return fail(minor);
}

EXPORT OM_uint32 gss_verify_mic(OM_uint32 *, gss_ctx_id_t, gss_buffer_t, gss_buffer_t,
    gss_qop_t *);
OM_uint32
gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t message,
    gss_buffer_t token, gss_qop_t *qop)
{
	(void)ctx;
	(void)message;
	(void)token;
	CLEAR(qop);
	return fail(minor);
}
