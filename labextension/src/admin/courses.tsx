import { Button, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  defaultCoursesApi,
  ICourse,
  ICoursesApi,
  ICourseForm,
  saveCourse
} from './coursesApi';

/** Props of {@link CoursesSection}. */
export interface ICoursesSectionProps {
  api?: ICoursesApi;
}

type Outcome = { kind: 'ok' | 'error'; text: string };

const EMPTY_FORM: ICourseForm = {
  group: '',
  roster: '',
  repository: '',
  branch: ''
};

/**
 * "Courses": the courses (a hub group with a shared folder), and a form that
 * creates one or adds members to it from a CSV roster, with the git
 * repository its nbgitpuller link hands out.
 */
export function CoursesSection({
  api = defaultCoursesApi
}: ICoursesSectionProps): JSX.Element {
  const [courses, setCourses] = React.useState<ICourse[] | null>(null);
  const [form, setForm] = React.useState<ICourseForm>(EMPTY_FORM);
  const [busy, setBusy] = React.useState(false);
  const [outcome, setOutcome] = React.useState<Outcome | null>(null);

  const load = React.useCallback(async (): Promise<void> => {
    try {
      setCourses(await api.list());
    } catch (reason) {
      setOutcome({ kind: 'error', text: message(reason) });
    }
  }, [api]);

  React.useEffect(() => {
    void load();
  }, [load]);

  const field =
    (name: keyof ICourseForm) =>
    (event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>): void =>
      setForm(current => ({ ...current, [name]: event.target.value }));

  const pickFile = async (
    event: React.ChangeEvent<HTMLInputElement>
  ): Promise<void> => {
    const file = event.target.files?.[0];
    if (file) {
      const roster = await readText(file);
      setForm(current => ({ ...current, roster }));
    }
  };

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    const group = form.group.trim();
    if (!group) {
      setOutcome({ kind: 'error', text: 'Enter the course name.' });
      return;
    }
    setBusy(true);
    setOutcome(null);
    try {
      const existing = courses?.find(c => c.group === group);
      const { course, createdUsers } = await saveCourse(api, existing, {
        ...form,
        group
      });
      setOutcome({ kind: 'ok', text: savedText(course, createdUsers) });
      setForm(EMPTY_FORM);
      await load();
    } catch (reason) {
      setOutcome({ kind: 'error', text: message(reason) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="jp-labdeck-courses" aria-label="Courses">
      <h2 className="jp-labdeck-report-heading">Courses</h2>
      <p className="jp-labdeck-muted">
        A course is a hub group with a shared folder, ~/course-&lt;name&gt; in
        every member's home: instructors write, students read.
      </p>
      {courses !== null && courses.length === 0 && (
        <p className="jp-labdeck-muted" data-testid="labdeck-courses-empty">
          No courses yet.
        </p>
      )}
      {courses !== null && courses.length > 0 && (
        <table className="jp-labdeck-table" data-testid="labdeck-courses-table">
          <thead>
            <tr>
              <th>Course</th>
              <th>Instructors</th>
              <th>Students</th>
              <th>Material link</th>
            </tr>
          </thead>
          <tbody>
            {courses.map(course => (
              <tr key={course.group}>
                <td>{course.group}</td>
                <td title={course.instructors.join(', ')}>
                  {course.instructors.join(', ') || '–'}
                </td>
                <td title={course.students.join(', ')}>
                  {course.students.length}
                </td>
                <td>
                  {course.material_link ? (
                    <a
                      href={course.material_link}
                      target="_blank"
                      rel="noreferrer"
                    >
                      {course.repository}
                    </a>
                  ) : (
                    '–'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="jp-labdeck-course-form"
        onSubmit={event => void submit(event)}
        aria-label="Create or update a course"
      >
        <p className="jp-labdeck-muted">
          A new course is created; an existing one keeps its members and gets
          the roster's added. Roster lines: user,role (instructor or student,
          the default).
        </p>
        <div className="jp-labdeck-form-row">
          <label>
            Course
            <InputGroup
              type="text"
              value={form.group}
              placeholder="e.g. cs101"
              data-testid="labdeck-course-group"
              onChange={field('group')}
            />
          </label>
          <label>
            Roster (CSV)
            <input
              type="file"
              accept=".csv,text/csv"
              data-testid="labdeck-course-file"
              onChange={event => void pickFile(event)}
            />
          </label>
        </div>
        <textarea
          className="jp-mod-styled"
          rows={4}
          value={form.roster}
          placeholder={'user,role\nada,instructor\ngrace,student'}
          aria-label="Roster"
          data-testid="labdeck-course-roster"
          onChange={field('roster')}
        />
        <div className="jp-labdeck-form-row">
          <label>
            Git repository (optional)
            <InputGroup
              type="text"
              value={form.repository}
              placeholder="https://github.com/org/material"
              data-testid="labdeck-course-repository"
              onChange={field('repository')}
            />
          </label>
          <label>
            Branch
            <InputGroup
              type="text"
              value={form.branch}
              placeholder="main"
              data-testid="labdeck-course-branch"
              onChange={field('branch')}
            />
          </label>
          <Button
            type="submit"
            className="jp-mod-styled jp-mod-accept"
            disabled={busy}
            data-testid="labdeck-course-submit"
          >
            {busy ? 'Saving…' : 'Save course'}
          </Button>
        </div>
      </form>
      {outcome && (
        <p
          className={
            outcome.kind === 'ok' ? 'jp-labdeck-grant-ok' : 'jp-labdeck-error'
          }
          role={outcome.kind === 'error' ? 'alert' : 'status'}
          data-testid="labdeck-course-outcome"
        >
          {outcome.text}
        </p>
      )}
    </section>
  );
}

/** What a save did, in a sentence. */
export function savedText(course: ICourse, createdUsers: string[]): string {
  const count = (n: number, word: string): string =>
    `${n} ${word}${n === 1 ? '' : 's'}`;
  let text =
    `${course.group}: ${count(course.instructors.length, 'instructor')}, ` +
    `${count(course.students.length, 'student')}.`;
  if (createdUsers.length > 0) {
    text += ` New hub users: ${createdUsers.join(', ')} (give them an invite link to log in).`;
  }
  if (course.material_link) {
    text += ` Material link: ${course.material_link}`;
  }
  return text;
}

function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
