"""Print the closing 'N passed, N failed' line of make test and set the exit code."""

import glob
import os
import sys
import xml.etree.ElementTree as ET

reports = sys.argv[1]
passed = failed = skipped = 0
failures = []
for path in sorted(glob.glob(os.path.join(reports, '*.xml'))):
    for case in ET.parse(path).getroot().iter('testcase'):
        name = '%s::%s' % (case.get('classname'), case.get('name'))
        if case.find('failure') is not None or case.find('error') is not None:
            failed += 1
            failures.append(name)
        elif case.find('skipped') is not None:
            skipped += 1
        else:
            passed += 1
for path in sorted(glob.glob(os.path.join(reports, '*.status'))):
    name = os.path.basename(path)[:-len('.status')]
    with open(path) as f:
        if f.read().strip() == 'pass':
            passed += 1
        else:
            failed += 1
            failures.append(name)
# A pytest step that crashed before writing its report is a failure too.
for log in sorted(glob.glob(os.path.join(reports, '*.log'))):
    base = log[:-len('.log')]
    if not os.path.exists(base + '.xml') and not os.path.exists(base + '.status'):
        failed += 1
        failures.append(os.path.basename(base))
for name in failures:
    print('FAILED %s' % name)
line = '%d passed, %d failed' % (passed, failed)
if skipped:
    line += ', %d skipped' % skipped
print(line)
sys.exit(1 if failed or not passed else 0)
