/* The router reader's two hot loops, compiled: the survey of a block (survey.survey) and the
 * check of a block's routing lines against one layout (layouts.fit). Each gives exactly what
 * its numpy twin in the same module gives (tests compare the two on the same input); where
 * this module was not built, the numpy ones run. Buffers only: no numpy headers are needed. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define PLAIN 1   /* {...}, no control byte, no backslash */
#define JUDGED 2  /* read one by one: not {...}, or holding binary data; never a routing line */
#define ROUTING 4 /* holds a needle */

/* survey.NEEDLES (a test holds the two equal), each looked for at its first space */
typedef struct {
    const char *text;
    Py_ssize_t length, space;
} Needle;
static Needle NEEDLES[] = {{"Routing import request", 0, 0}, {"routed to", 0, 0}};
#define NEEDLE_COUNT (sizeof(NEEDLES) / sizeof(NEEDLES[0]))

/* Whether a needle has the space at data[space] as its first, within [s, e). */
static int needle_at(const unsigned char *data, Py_ssize_t s, Py_ssize_t e, Py_ssize_t space) {
    for (size_t n = 0; n < NEEDLE_COUNT; n++) {
        const Needle *needle = &NEEDLES[n];
        Py_ssize_t at = space - needle->space;
        if (space + 1 < e && data[space + 1] == (unsigned char)needle->text[needle->space + 1] &&
            at >= s && at + needle->length <= e &&
            memcmp(data + at, needle->text, (size_t)needle->length) == 0)
            return 1;
    }
    return 0;
}

/* A line's flags from its bytes [s, e) and what was found in it. */
static unsigned char line_flags(const unsigned char *data, Py_ssize_t s, Py_ssize_t e,
                                int special, int binary, int routing) {
    if (routing)
        return (unsigned char)(ROUTING | ((e > s && !special && data[s] == '{' && data[e - 1] == '}') ? PLAIN : 0));
    int odd = e == s || data[s] != '{' || data[e - 1] != '}';
    return (unsigned char)((odd || binary ? JUDGED : 0) | (odd || special ? 0 : PLAIN));
}

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Bit i set for each byte i of the 64 at `bytes` (or the `count` there, if fewer) that is below
 * 0x21 (newline, space, control) or a backslash. */
static inline uint64_t interesting(const unsigned char *bytes, Py_ssize_t count) {
    uint64_t mask = 0;
#ifdef __SSE2__
    if (count == 64) {
        const __m128i space = _mm_set1_epi8(' '), backslash = _mm_set1_epi8('\\');
        for (int k = 0; k < 4; k++) {
            __m128i x = _mm_loadu_si128((const __m128i *)(bytes + 16 * k));
            __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, space), x),
                                       _mm_cmpeq_epi8(x, backslash));
            mask |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << (16 * k);
        }
        return mask;
    }
#endif
    for (Py_ssize_t i = 0; i < count; i++)
        mask |= (uint64_t)(bytes[i] <= ' ' || bytes[i] == '\\') << i;
    return mask;
}

/* `object`'s buffer as a C-contiguous array of `itemsize`-byte items (integers, aligned for
 * them), writable if asked: else a TypeError or ValueError, and nothing to release. */
static int array_of(PyObject *object, Py_buffer *view, Py_ssize_t itemsize, int writable,
                    const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, view, flags) < 0)
        return -1;
    const char *format = view->format ? view->format : "B";
    if (*format == '<' || *format == '=' || *format == '@')
        format++;
    int integer = format[0] && !format[1] && strchr(itemsize == 8 ? "qQlL" : "bBc?", format[0]);
    if (view->itemsize != itemsize || !integer || ((uintptr_t)view->buf % (uintptr_t)itemsize)) {
        PyErr_Format(PyExc_TypeError, "%s: expected aligned %zd-byte integers", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* survey(buf, end, ends, flags) -> lines, or -lines when `ends`/`flags` hold fewer: line i of
 * buf[:end] ends at ends[i] (its newline, or `end` for a last line without one). */
static PyObject *survey(PyObject *self, PyObject *args) {
    Py_buffer buf, ends_out, flags_out;
    PyObject *ends_object, *flags_object;
    Py_ssize_t end;
    if (!PyArg_ParseTuple(args, "y*nOO", &buf, &end, &ends_object, &flags_object))
        return NULL;
    if (array_of(ends_object, &ends_out, 8, 1, "ends") < 0) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    if (array_of(flags_object, &flags_out, 1, 1, "flags") < 0) {
        PyBuffer_Release(&buf);
        PyBuffer_Release(&ends_out);
        return NULL;
    }
    PyObject *result = NULL;
    if (end < 0 || end > buf.len) {
        PyErr_SetString(PyExc_ValueError, "end is outside the buffer");
        goto done;
    }
    const unsigned char *data = buf.buf;
    int64_t *ends = ends_out.buf;
    unsigned char *flags = flags_out.buf;
    Py_ssize_t capacity = ends_out.len / 8;
    if (flags_out.len < capacity)
        capacity = flags_out.len;
    Py_ssize_t lines = 0, s = 0, p;
    int special = 0, binary = 0, routing = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t at = 0; at < end; at += 64) {
        uint64_t mask = interesting(data + at, end - at < 64 ? end - at : 64);
        for (; mask; mask &= mask - 1) {
            p = at + __builtin_ctzll(mask);
            unsigned char c = data[p];
            if (c == '\n') {
                if (lines < capacity) {
                    ends[lines] = p;
                    flags[lines] = line_flags(data, s, p, special, binary, routing);
                }
                lines++;
                s = p + 1;
                special = binary = routing = 0;
            } else if (c == ' ') {
                if (!routing && needle_at(data, s, end, p))
                    routing = 1;
            } else {
                special = 1;
                if (c != '\\' && c != 9 && c != 13 && c != 27)
                    binary = 1;
            }
        }
    }
    if (s < end) { /* the last line, without a newline */
        if (lines < capacity) {
            ends[lines] = end;
            flags[lines] = line_flags(data, s, end, special, binary, routing);
        }
        lines++;
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(lines <= capacity ? lines : -lines);
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&ends_out);
    PyBuffer_Release(&flags_out);
    return result;
}

/* fit(data, starts, length, low, width, time, ident, ident_length, start, m1, m2, fits,
 * instants, keys) -> lines that fit. Line i is data[starts[i]:][:length]; it fits when each
 * byte j has (byte - low[j]) % 256 < width[j]. For each, fits[i] = 1, instants[i] = the 13
 * digits at `time` (epoch ms) as microseconds, keys[i] = identity.text_keys of its id's
 * bytes (`ident`, `ident_length`; a negative length: none, key 0) from `start`. */
static PyObject *fit(PyObject *self, PyObject *args) {
    PyObject *objects[7]; /* data, starts, low, width, fits, instants, keys */
    Py_ssize_t length, time_at, ident_at, ident_length;
    unsigned long long start, m1, m2;
    if (!PyArg_ParseTuple(args, "OOnOOnnnKKKOOO", &objects[0], &objects[1], &length, &objects[2],
                          &objects[3], &time_at, &ident_at, &ident_length, &start, &m1, &m2,
                          &objects[4], &objects[5], &objects[6]))
        return NULL;
    static const char *names[7] = {"data", "starts", "low", "width", "fits", "instants", "keys"};
    static const Py_ssize_t sizes[7] = {1, 8, 1, 1, 1, 8, 8};
    Py_buffer views[7];
    int taken = 0;
    PyObject *result = NULL;
    for (; taken < 7; taken++)
        if (array_of(objects[taken], &views[taken], sizes[taken], taken >= 4, names[taken]) < 0)
            goto done;
    Py_ssize_t count = views[1].len / 8, size = views[0].len;
    /* (written so that no sum can overflow) */
    if (length < 13 || views[2].len != length || views[3].len != length || time_at < 0 ||
        time_at > length - 13 ||
        (ident_length >= 0 && (ident_at < 0 || ident_at > length || ident_length > length - ident_at)) ||
        views[4].len < count || views[5].len / 8 < count || views[6].len / 8 < count) {
        PyErr_SetString(PyExc_ValueError, "fit: arguments of inconsistent sizes");
        goto done;
    }
    const unsigned char *data = views[0].buf, *low = views[2].buf, *width = views[3].buf;
    const int64_t *starts = views[1].buf;
    unsigned char *fits = views[4].buf;
    int64_t *instants = views[5].buf, *keys = views[6].buf;
    Py_ssize_t fitting = 0, outside = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        /* each start read once and checked as it is used: the arrays may change meanwhile
         * (another thread, an output that is also an input) */
        int64_t first = starts[i];
        if (first < 0 || first > size - length) {
            outside = i;
            break;
        }
        const unsigned char *line = data + first;
        unsigned char bad = 0;
        for (Py_ssize_t j = 0; j < length; j++) /* no early exit: vectorized */
            bad |= (unsigned char)(line[j] - low[j]) >= width[j];
        fits[i] = !bad;
        if (bad)
            continue;
        fitting++;
        int64_t ms = 0;
        for (int k = 0; k < 13; k++)
            ms = ms * 10 + (line[time_at + k] - '0');
        int64_t instant = ms * 1000;
        instants[i] = instant;
        if (ident_length < 0) {
            keys[i] = 0;
            continue;
        }
        uint64_t h = start;
        for (Py_ssize_t at = 0; at < ident_length; at += 8) {
            uint64_t word = 0;
            Py_ssize_t n = ident_length - at < 8 ? ident_length - at : 8;
            for (Py_ssize_t b = 0; b < n; b++) /* little-endian, zero padded */
                word |= (uint64_t)line[ident_at + at + b] << (8 * b);
            h = (h ^ word) * m1;
            h ^= h >> 32;
        }
        h ^= (uint64_t)instant;
        h ^= h >> 30;
        h *= m1;
        h ^= h >> 27;
        h *= m2;
        h ^= h >> 31;
        keys[i] = (int64_t)h;
    }
    Py_END_ALLOW_THREADS
    if (outside >= 0)
        PyErr_Format(PyExc_ValueError, "fit: line %zd is outside the data", outside);
    else
        result = PyLong_FromSsize_t(fitting);
done:
    while (taken-- > 0)
        PyBuffer_Release(&views[taken]);
    return result;
}

static PyMethodDef methods[] = {
    {"survey", survey, METH_VARARGS, "The lines of a block and their flags."},
    {"fit", fit, METH_VARARGS, "The lines of one length that fit a layout, read."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    PyObject *needles = PyTuple_New(NEEDLE_COUNT);
    for (size_t n = 0; needles && n < NEEDLE_COUNT; n++) {
        NEEDLES[n].length = (Py_ssize_t)strlen(NEEDLES[n].text);
        NEEDLES[n].space = strchr(NEEDLES[n].text, ' ') - NEEDLES[n].text;
        PyObject *text = PyBytes_FromString(NEEDLES[n].text);
        if (!text)
            Py_CLEAR(needles);
        else
            PyTuple_SET_ITEM(needles, n, text);
    }
    int failed = !needles || PyModule_AddObjectRef(m, "NEEDLES", needles) < 0 ||
                 PyModule_AddIntConstant(m, "PLAIN", PLAIN) < 0 ||
                 PyModule_AddIntConstant(m, "JUDGED", JUDGED) < 0 ||
                 PyModule_AddIntConstant(m, "ROUTING", ROUTING) < 0;
    Py_XDECREF(needles);
    if (failed)
        Py_CLEAR(m);
    return m;
}
