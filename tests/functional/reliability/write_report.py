"""Write docs/reliability.md (and its JSON) from what the reliability cases measured.

The prose is reliability.md.in beside this file; every ``${name}`` there is a figure or a table made here from
the report that the cases wrote (build/reports/reliability-short.json in the short form, reliability-soak.json for
``make soak``). A case that did not run or failed says so in place of its figures.

    write_report.py REPORT.json --md docs/reliability.md [--json docs/reliability.json]
"""

import argparse
import json
import os
import string
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, 'reliability.md.in')
MIB = 1024 * 1024
CASES = (('concurrency', 'Concurrency'), ('proxy_killed', 'Proxy killed mid-upload'),
         ('proxy_down_at_start', 'Proxy down at start'), ('s3_faults', 'S3 down behind the proxy, S3 slow'),
         ('rotation', 'Proxy password rotation'), ('soak', 'Soak'))


def gib(nbytes):
    return '%.1f GiB' % (nbytes / 1024.0 / MIB) if nbytes else '0'


def _fig(figures, key, fmt='%s', default='n/a'):
    value = figures.get(key)
    return default if value is None else fmt % value


def _table(header, rows):
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(str(c).replace('|', '\\|') for c in row) + ' |' for row in rows]
    return '\n'.join(out)


def _status(case):
    tests = case.get('tests', {})
    if not tests:
        return 'not run'
    failed = sorted(t for t, r in tests.items() if r != 'passed')
    if failed:
        return 'FAILED: %s' % ', '.join(failed)
    return 'passed (%d test%s)' % (len(tests), '' if len(tests) == 1 else 's')


def _failures(case):
    lines = case.get('failures', [])
    return '' if not lines else (
        '\n\n**This case failed.** The table holds what was measured before the failure; its fixed wording (a status,'
        ' "succeeded", "no restart") is what the passing case asserts, so it does not hold for this run.'
        ' Failures of this run:\n\n' + '\n'.join('- `%s`' % f[:300].replace('`', "'") for f in lines))


def _short_error(lines):
    if not lines:
        return 'none'
    text = lines[0]
    if '] ' in text:
        text = text.split('] ', 1)[1]
    return '`%s`' % text[:220].replace('`', "'").replace('|', '\\|')


def concurrency(case):
    f = case.get('figures', {})
    if not f:
        return 'Not measured in this run.' + _failures(case)
    return _table(('figure', 'value'), [
        ('uploads at once (store `fast` as `glance-s3` + store `second` as `glance-s3b`)', _fig(f, 'uploads')),
        ('image size', '%s MiB' % _fig(f, 'image_mib')),
        ('bytes uploaded', gib(f.get('upload_bytes', 0))),
        ('glance-api workers; uploads each served', '%s; %s' % (_fig(f, 'workers'), _fig(f, 'uploads_per_worker'))),
        ('wall time of the uploads, throughput', '%s s, %s MiB/s' % (_fig(f, 'upload_wall_seconds'), _fig(f, 'upload_mib_per_s'))),
        ('slowest upload', '%s s' % _fig(f, 'upload_seconds_max')),
        ("part requests in Squid's log, by proxy user", _fig(f, 'squid_part_lines')),
        ('concurrent downloads of one image; bytes', '%s; %s' % (_fig(f, 'downloads'), gib(f.get('download_bytes', 0)))),
        ('wall time of the downloads, throughput', '%s s, %s MiB/s' % (_fig(f, 'download_wall_seconds'), _fig(f, 'download_mib_per_s'))),
        ('errors (uploads + downloads)', (f.get('upload_errors') or 0) + (f.get('download_errors') or 0)),
        ('extension state in every worker afterwards', _fig(f, 'extension_state')),
    ]) + _failures(case)


def proxy_killed(case):
    f = case.get('figures', {})
    rounds = f.get('rounds', [])
    if not rounds:
        return 'Not measured in this run.' + _failures(case)
    table = _table(('round', 'Squid down', 'upload ended', 'HTTP', 'image', 'incomplete multipart uploads left',
                    'next upload OK after', "Glance's error"), [
        (i + 1, '%s s' % r.get('proxy_down_seconds'), '%s s' % r.get('upload_seconds'), r.get('http_status'),
         r.get('image_status'), r.get('incomplete_multipart_uploads'), '%s s' % r.get('seconds_to_next_successful_upload'),
         _short_error(r.get('glance_error')[1:] or r.get('glance_error')))
        for i, r in enumerate(rounds)])
    return table + '\n\nUploads: %s, %s; outcomes: %s.' % (
        _fig(f, 'uploads'), gib(f.get('upload_bytes', 0)), '; '.join(f.get('outcomes', []))) + _failures(case)


def proxy_down_at_start(case):
    f = case.get('figures', {})
    if not f:
        return 'Not measured in this run.' + _failures(case)
    return _table(('figure', 'value'), [
        ('glance-api start without its proxy; health check', '%s s; 200' % _fig(f, 'glance_start_seconds')),
        ('upload while Squid is down', 'HTTP %s after %s s; image `%s`' % (
            _fig(f, 'http_status'), _fig(f, 'fail_seconds'), _fig(f, 'image_status'))),
        ("Glance's log (ERROR, under the response's `x-openstack-request-id`)", _short_error(f.get('glance_error'))),
        ('the API response names the proxy', 'no (Glance answers every internal error with the same 500 page)'
         if not f.get('response_names_proxy') else 'yes'),
        ('first upload after Squid is up (the same image again)', 'succeeded, %s s' % _fig(f, 'seconds_to_first_successful_upload')),
        ('uploads; bytes; glance-api restarted', '%s; %s; no' % (_fig(f, 'uploads'), gib(f.get('upload_bytes', 0)))),
    ]) + _failures(case)


def s3_faults(case):
    f = case.get('figures', {})
    if not f:
        return 'Not measured in this run.' + _failures(case)
    rows = []
    stopped = f.get('s3_stopped')
    if stopped:
        rows.append(('S3 stopped, then an upload (%s MiB)' % stopped.get('image_mib'),
                     'HTTP %s after %s s' % (stopped.get('http_status'), stopped.get('fail_seconds')),
                     stopped.get('incomplete_multipart_uploads'), '%s s' % stopped.get('seconds_to_successful_retry'),
                     _short_error(stopped.get('glance_error'))))
    killed = f.get('s3_killed_mid_upload')
    if killed:
        rows.append(('S3 killed during an upload (%s MiB)' % killed.get('image_mib'),
                     'HTTP %s after %s s' % (killed.get('http_status'), killed.get('upload_seconds')),
                     killed.get('incomplete_multipart_uploads'), '%s s' % killed.get('seconds_to_successful_retry'),
                     _short_error(killed.get('glance_error'))))
    hole = f.get('s3_black_hole_mid_upload')
    if hole:
        rows.append(('S3 black-holed during an upload (%s MiB)' % hole.get('image_mib'),
                     'HTTP %s %s s after the fault (bound %s s)' % (hole.get('http_status'), hole.get('fail_seconds_after_fault'),
                                                                    hole.get('bound_seconds')),
                     hole.get('incomplete_multipart_uploads'), '%s s' % hole.get('seconds_to_successful_retry'),
                     _short_error(hole.get('glance_error'))))
    slow = f.get('s3_slow')
    if slow:
        rows.append(('S3 behind a %s Mbit/s link (%s MiB)' % (slow.get('link_mbit'), slow.get('image_mib')),
                     'HTTP %s, `active`, right checksum, %s s (%s s at link rate)%s' % (
                         slow.get('http_status'), slow.get('upload_seconds'), slow.get('seconds_at_link_rate'),
                         '; slowest part %s s, longer than read_timeout' % slow['slowest_part_seconds']
                         if slow.get('slowest_part_seconds') else ''),
                     0, 'n/a', 'none'))
    return _table(('fault', 'outcome', 'incomplete multipart uploads left', 'same image uploaded again after', "Glance's error"),
                  rows) + _failures(case)


def rotation(case):
    f = case.get('figures', {})
    if not f:
        return 'Not measured in this run.' + _failures(case)
    return _table(('figure', 'value'), [
        ('requests through the shared address during the rotation', '%s (%s)' % (_fig(f, 'requests'), _fig(f, 'requests_by_op'))),
        ('failed requests', _fig(f, 'failed_requests')),
        ('bytes uploaded; downloaded', '%s; %s' % (gib(f.get('upload_bytes', 0)), gib(f.get('download_bytes', 0)))),
        ('`deploy.yml` (2 hosts, serial 1) with the new credential', '%s s' % _fig(f, 'rotation_deploy_seconds')),
        ('each host out of HAProxy (drain to ready)', _fig(f, 'host_out_of_rotation_seconds')),
        ('window in which Squid accepted both credentials', '%s s' % _fig(f, 'window_seconds')),
        ('Squid: requests refused (407); requests by user', '%s; %s' % (_fig(f, 'squid_407'), _fig(f, 'squid_requests_by_user'))),
    ]) + _failures(case)


def soak(case):
    f = case.get('figures', {})
    if not f:
        return 'Not measured in this run.' + _failures(case)
    ops = f.get('operations', {})
    head = _table(('figure', 'value'), [
        ('duration; warm-up; checkpoints (measured)', '%s s; %s s; %s (%s)' % (
            _fig(f, 'duration_seconds'), _fig(f, 'warmup_seconds'), _fig(f, 'checkpoints'), _fig(f, 'measured_checkpoints'))),
        ('clients; glance-api workers; image sizes (MiB)', '%s; %s; %s' % (_fig(f, 'clients'), _fig(f, 'workers'), _fig(f, 'sizes_mib'))),
        ('uploads; downloads; deletes', '%s; %s; %s' % (ops.get('upload'), ops.get('download'), ops.get('delete'))),
        ('bytes uploaded; downloaded', '%s; %s' % (gib(f.get('upload_bytes', 0)), gib(f.get('download_bytes', 0)))),
        ('errors', _fig(f, 'errors')),
        ('largest growth of a worker\'s RSS in use after warm-up', '%s %%' % _fig(f, 'rss_growth_pct_max')),
        ('largest growth of a worker\'s raw RSS (free memory included)', '%s %%' % _fig(f, 'raw_rss_growth_pct_max')),
        ('largest open-file-descriptor growth of a worker', '%s %%' % _fig(f, 'fds_growth_pct_max')),
        ("Squid: requests; users; refused or 5xx", '%s; %s; %s' % (
            _fig(f, 'squid_requests'), _fig(f, 'squid_users'), _fig(f, 'squid_refused_or_5xx'))),
    ])
    workers = _table(('worker', 'RSS in use, MiB (baseline → final)', 'growth', 'raw RSS, MiB (baseline → final; min–max)',
                      'raw growth', 'open FDs (baseline → final)'), [
        (pid, '%s → %s' % (w.get('rss_mib_baseline'), w.get('rss_mib_final')), '%s %%' % w.get('rss_growth_pct'),
         '%s → %s; %s–%s' % (w.get('raw_rss_mib_baseline'), w.get('raw_rss_mib_final'), w.get('raw_rss_mib_min'),
                             w.get('raw_rss_mib_max')),
         '%s %%' % w.get('raw_rss_growth_pct'), '%s → %s' % (w.get('fds_baseline'), w.get('fds_final')))
        for pid, w in sorted(f.get('per_worker', {}).items())])
    state = f.get('extension_state', {})
    ext = _table(("the extension's per-process state, at every checkpoint, every worker", 'values seen'), [
        ('announce set (`_ANNOUNCED`) entries', state.get('announced_len')),
        ('runtime record cache (`runtime._WRITTEN`) entries', state.get('runtime_written_len')),
        ('requests after which the context variable stayed set', state.get('context_set_after')),
        ('context variable set while idle', state.get('context_now')),
        ('live botocore clients while idle', state.get('botocore_clients')),
        ('threads', state.get('threads')),
    ])
    return '\n\n'.join((head, workers, ext)) + _failures(case)


def render(report):
    cases = report.get('cases', {})
    versions = report.get('versions', {})
    machine = report.get('machine', {})
    summary = _table(('case', 'result'), [(title, _status(cases.get(name, {}))) for name, title in CASES])
    values = {
        'mode': report.get('mode', '?'), 'started': report.get('started', '?'),
        'duration_minutes': '%.1f' % (report.get('duration_seconds', 0) / 60.0),
        'soak_seconds': report.get('soak_seconds', '?'), 'soak_minutes': '%.0f' % (report.get('soak_seconds', 0) / 60.0),
        'fault_rounds': report.get('fault_rounds', '?'),
        'cores': machine.get('cores', '?'), 'kernel': machine.get('kernel', '?'),
        'load': '%s at the start, %s at the end' % (machine.get('load_at_start'), machine.get('load_at_end')),
        'glance': versions.get('glance', '?'), 'glance_store': versions.get('glance_store', '?'),
        'botocore': versions.get('botocore', '?'), 'uwsgi': versions.get('uwsgi', '?'),
        'extension': versions.get('extension', '?'), 'squid': versions.get('squid', '?'),
        'haproxy': ' '.join(versions.get('haproxy', '?').split()[:3]), 'seaweedfs': versions.get('seaweedfs', '?'),
        'summary': summary, 'concurrency': concurrency(cases.get('concurrency', {})),
        'proxy_killed': proxy_killed(cases.get('proxy_killed', {})),
        'proxy_down_at_start': proxy_down_at_start(cases.get('proxy_down_at_start', {})),
        's3_faults': s3_faults(cases.get('s3_faults', {})), 'rotation': rotation(cases.get('rotation', {})),
        'soak': soak(cases.get('soak', {})),
    }
    with open(TEMPLATE, encoding='utf-8') as f:
        return string.Template(f.read()).substitute(values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('report')
    parser.add_argument('--md', required=True)
    parser.add_argument('--json')
    args = parser.parse_args(argv)
    with open(args.report, encoding='utf-8') as f:
        report = json.load(f)
    with open(args.md, 'w', encoding='utf-8') as f:
        f.write(render(report))
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=1, sort_keys=True)
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
