#include "ui/connections/profileeditor.h"

#include "profiles/secretstore.h"
#include "ui/connections/connectiontest.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace streams {

namespace {
using Kind = ConnectionProfile::Kind;
using AuthMethod = ConnectionProfile::AuthMethod;

QColor errorColor(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128 ? QColor(0xff, 0x6b, 0x6b)
                                                             : QColor(0xc6, 0x28, 0x28);
}

QString fieldName(ProfileEditor::Field field)
{
    using Field = ProfileEditor::Field;
    switch (field) {
    case Field::Name: return ProfileEditor::tr("name");
    case Field::EngineUrl: return ProfileEditor::tr("URL");
    case Field::AccountSid: return ProfileEditor::tr("Account SID");
    case Field::ApiKeySid: return ProfileEditor::tr("API Key SID");
    case Field::Region: return ProfileEditor::tr("region");
    case Field::Edge: return ProfileEditor::tr("edge");
    case Field::Secret: return ProfileEditor::tr("secret");
    }
    return {};
}

} // namespace

ProfileEditor::ProfileEditor(
    const ConnectionProfile &profile, QStringList takenNames, SecretStore &secrets, QWidget *parent)
    : QDialog(parent), m_original(profile), m_takenNames(std::move(takenNames)), m_secrets(secrets)
{
    setObjectName(QStringLiteral("profileEditor"));
    setWindowTitle(
        isNewProfile() ? tr("New connection") : tr("Edit connection “%1”").arg(profile.name));
    build();
    load(profile);
    // An existing profile is checked whole from the start; a new one field by field as the user
    // gets there, so an empty form does not open as a wall of red.
    if (!isNewProfile()) {
        for (FieldRow &row : m_rows)
            row.touched = true;
    }
    updateKind();
    validate();
    setMinimumWidth(560);
    resize(560, sizeHint().height());
}

ProfileEditor::~ProfileEditor()
{
    // The fields outlive this object's members by a moment, and a focused one says
    // editingFinished as it goes.
    for (QLineEdit *edit : findChildren<QLineEdit *>())
        disconnect(edit, nullptr, this, nullptr);
}

void ProfileEditor::build()
{
    buildFields();
    buildAuthChoice();
    buildTestAndButtons();
    layOutForm();
    connectFields();
}

void ProfileEditor::buildFields()
{
    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("kindCombo"));
    m_kind->addItem(ConnectionProfile::kindName(Kind::TwilioAccount), int(Kind::TwilioAccount));
    m_kind->addItem(ConnectionProfile::kindName(Kind::EngineAtUrl), int(Kind::EngineAtUrl));
    m_kind->setToolTip(tr("Twilio's cloud, or a streams-engine running elsewhere"));

    const auto lineEdit = [this](const char *objectName, const QString &placeholder) {
        auto *edit = new QLineEdit(this);
        edit->setObjectName(QString::fromLatin1(objectName));
        edit->setPlaceholderText(placeholder);
        return edit;
    };
    m_name = lineEdit("nameEdit", tr("e.g. Production, Staging engine"));
    m_url = lineEdit("urlEdit", tr("http://127.0.0.1:18080"));
    m_accountSid = lineEdit("accountSidEdit", tr("AC followed by 32 hex digits"));
    m_apiKeySid = lineEdit("apiKeySidEdit", tr("SK followed by 32 hex digits"));
    m_secret = lineEdit("secretEdit", QString());
    m_secret->setEchoMode(QLineEdit::Password);
    // Input methods and autocompletion must not learn a secret.
    m_secret->setInputMethodHints(
        Qt::ImhHiddenText | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    m_region = lineEdit("regionEdit", tr("us1 (default)"));
    m_edge = lineEdit("edgeEdit", tr("none (e.g. ashburn, dublin, sydney)"));

    m_showSecret = new QToolButton(this);
    m_showSecret->setObjectName(QStringLiteral("showSecretButton"));
    m_showSecret->setText(tr("Show"));
    m_showSecret->setCheckable(true);
    m_showSecret->setToolTip(tr("Show or hide the secret as you type it"));
    connect(m_showSecret, &QToolButton::toggled, this, [this](bool on) {
        m_secret->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password);
        m_showSecret->setText(on ? tr("Hide") : tr("Show"));
    });
}

void ProfileEditor::buildAuthChoice()
{
    m_apiKey = new QRadioButton(tr("API key (SID + secret)"), this);
    m_apiKey->setObjectName(QStringLiteral("apiKeyRadio"));
    m_authToken = new QRadioButton(tr("Auth Token"), this);
    m_authToken->setObjectName(QStringLiteral("authTokenRadio"));
    auto *group = new QButtonGroup(this);
    group->addButton(m_apiKey);
    group->addButton(m_authToken);
    m_authNote = new QLabel(this);
    m_authNote->setObjectName(QStringLiteral("authNote"));
    m_authNote->setWordWrap(true);
    m_authNote->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_authNote->setForegroundRole(QPalette::PlaceholderText);

    m_keychainNote = new QLabel(this);
    m_keychainNote->setObjectName(QStringLiteral("keychainNote"));
    m_keychainNote->setWordWrap(true);
    m_keychainNote->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_keychainNote->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

void ProfileEditor::buildTestAndButtons()
{
    m_tester = new ConnectionTest(this);
    connect(m_tester, &ConnectionTest::finished, this, &ProfileEditor::finishTest);
    m_test = new QPushButton(tr("Test c&onnection"), this);
    m_test->setObjectName(QStringLiteral("testButton"));
    m_test->setAutoDefault(false);
    m_testResult = new QLabel(this);
    m_testResult->setObjectName(QStringLiteral("testResult"));
    m_testResult->setWordWrap(true);
    m_testResult->setAlignment(Qt::AlignVCenter | Qt::AlignLeft);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_testResult->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    // Not every platform theme gives Save a mnemonic; the form's keyboard users need one.
    m_buttons->button(QDialogButtonBox::Save)->setText(tr("&Save"));
}

void ProfileEditor::layOutForm()
{
    auto *form = m_form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    // Mnemonics, one letter each: Kind, Name, URL, Account, SID, sEcret/Token, Region, eDge,
    // cOnnection test, Save, Cancel.
    form->addRow(tr("&Kind:"), m_kind);
    addField(Field::Name, tr("&Name:"), m_name);
    addField(Field::EngineUrl, tr("&URL:"), m_url);
    addField(Field::AccountSid, tr("&Account SID:"), m_accountSid);
    auto *auth = new QWidget(this);
    auto *authLayout = new QVBoxLayout(auth);
    authLayout->setContentsMargins(0, 0, 0, 0);
    authLayout->setSpacing(2);
    auto *radios = new QHBoxLayout;
    radios->addWidget(m_apiKey);
    radios->addWidget(m_authToken);
    radios->addStretch(1);
    authLayout->addLayout(radios);
    authLayout->addWidget(m_authNote);
    form->addRow(tr("Authenticate with:"), auth);
    addField(Field::ApiKeySid, tr("API key S&ID:"), m_apiKeySid);
    addField(Field::Secret, tr("S&ecret:"), m_secret, m_showSecret, m_keychainNote);
    m_secretLabel = m_rows[Field::Secret].label;
    addField(Field::Region, tr("&Region:"), m_region);
    addField(Field::Edge, tr("E&dge:"), m_edge);

    auto *testRow = new QHBoxLayout;
    testRow->addWidget(m_test, 0, Qt::AlignTop);
    testRow->addWidget(m_testResult, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addSpacing(6);
    layout->addLayout(testRow);
    layout->addStretch(1);
    layout->addWidget(m_buttons);
}

void ProfileEditor::addField(
    Field field, const QString &label, QWidget *editor, QWidget *beside, QWidget *below)
{
    // Each field sits in a column with its problem under it (and, for the secret, the keychain
    // note): hidden together with its row, and measured properly when the text wraps.
    FieldRow row;
    row.row = new QWidget(this);
    auto *column = new QVBoxLayout(row.row);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    if (beside) {
        auto *line = new QHBoxLayout;
        line->setSpacing(4);
        line->addWidget(editor, 1);
        line->addWidget(beside);
        column->addLayout(line);
    } else {
        column->addWidget(editor);
    }
    row.error = new QLabel(row.row);
    row.error->setObjectName(QStringLiteral("problem_%1").arg(editor->objectName()));
    row.error->setWordWrap(true);
    row.error->hide();
    column->addWidget(row.error);
    if (below)
        column->addWidget(below);
    row.label = new QLabel(label, this);
    row.label->setBuddy(editor);
    m_form->addRow(row.label, row.row);
    m_rows.insert(field, row);
}

void ProfileEditor::connectFields()
{
    for (QLineEdit *edit : {m_name, m_url, m_accountSid, m_apiKeySid, m_secret, m_region, m_edge})
        connect(edit, &QLineEdit::textChanged, this, &ProfileEditor::validate);
    const auto touchOn = [this](QLineEdit *edit, Field field) {
        connect(edit, &QLineEdit::textEdited, this, [this, field] { touch(field); });
        connect(edit, &QLineEdit::editingFinished, this, [this, field] { touch(field); });
    };
    touchOn(m_name, Field::Name);
    touchOn(m_url, Field::EngineUrl);
    touchOn(m_accountSid, Field::AccountSid);
    touchOn(m_apiKeySid, Field::ApiKeySid);
    touchOn(m_secret, Field::Secret);
    touchOn(m_region, Field::Region);
    touchOn(m_edge, Field::Edge);
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        updateKind();
        validate();
        // Fit the rows the kind shows, no more: a Twilio account has two more than an engine.
        resize(width(), sizeHint().height());
    });
    connect(m_apiKey, &QRadioButton::toggled, this, [this] {
        updateKind();
        validate();
    });
    connect(m_test, &QPushButton::clicked, this, &ProfileEditor::testConnection);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (problems().isEmpty())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(&m_secrets, &SecretStore::keychainAvailabilityChanged, this, [this] { updateKind(); });
}

void ProfileEditor::load(const ConnectionProfile &profile)
{
    m_kind->setCurrentIndex(qMax(0, m_kind->findData(int(profile.kind))));
    m_name->setText(profile.name);
    m_url->setText(profile.engineUrl.toString());
    m_accountSid->setText(profile.accountSid);
    m_apiKeySid->setText(profile.apiKeySid);
    (profile.authMethod == AuthMethod::ApiKey ? m_apiKey : m_authToken)->setChecked(true);
    m_region->setText(profile.region);
    m_edge->setText(profile.edge);
}

ConnectionProfile ProfileEditor::profile() const
{
    ConnectionProfile profile = m_original;
    profile.kind = Kind(m_kind->currentData().toInt());
    profile.name = m_name->text().trimmed();
    profile.accountSid = m_accountSid->text().trimmed();
    profile.authMethod = m_apiKey->isChecked() ? AuthMethod::ApiKey : AuthMethod::AuthToken;
    // What does not apply to the kind or method is cleared, so a profile never carries a stale
    // URL or key SID the user can no longer see.
    profile.apiKeySid =
        profile.authMethod == AuthMethod::ApiKey ? m_apiKeySid->text().trimmed() : QString();
    const bool engine = profile.kind == Kind::EngineAtUrl;
    profile.engineUrl = engine ? QUrl(m_url->text().trimmed(), QUrl::StrictMode) : QUrl();
    profile.region = engine ? QString() : m_region->text().trimmed();
    profile.edge = engine ? QString() : m_edge->text().trimmed();
    return profile;
}

QString ProfileEditor::secret() const
{
    return m_secret->text();
}

void ProfileEditor::setSecret(const QString &secret)
{
    m_secret->setText(secret);
    touch(Field::Secret);
}

QPushButton *ProfileEditor::saveButton() const
{
    return m_buttons->button(QDialogButtonBox::Save);
}

void ProfileEditor::updateKind()
{
    const bool engine = Kind(m_kind->currentData().toInt()) == Kind::EngineAtUrl;
    const bool apiKey = m_apiKey->isChecked();
    QFormLayout *form = m_form;
    form->setRowVisible(m_rows[Field::EngineUrl].row, engine);
    form->setRowVisible(m_rows[Field::Region].row, !engine);
    form->setRowVisible(m_rows[Field::Edge].row, !engine);
    form->setRowVisible(m_rows[Field::ApiKeySid].row, apiKey);

    m_authNote->setText(engine
            ? tr("Live subscriptions need an API key (the engine prints its own with "
                 "streams-engine --show-credentials); an Auth Token gives admin and publishing "
                 "only.")
            : tr("Live subscriptions to the Twilio cloud need an API key; an Auth Token gives "
                 "admin and publishing only."));
    m_secretLabel->setText(apiKey ? tr("API key s&ecret:") : tr("Auth &Token:"));
    if (isNewProfile())
        m_secret->setPlaceholderText(tr("leave empty to be asked when you open the connection"));
    else
        m_secret->setPlaceholderText(m_secrets.keychainAvailable()
                ? tr("stored in the keychain; leave empty to keep it")
                : tr("leave empty to keep this session's"));

    if (m_secrets.keychainAvailable()) {
        m_keychainNote->setText(
            tr("The secret goes to the system keychain only, never to a file."));
        m_keychainNote->setForegroundRole(QPalette::PlaceholderText);
        m_keychainNote->setPalette(palette());
    } else {
        m_keychainNote->setText(
            tr("No keychain: %1. The secret is kept in memory for this session only and asked "
               "for again next time; it is never written to a file.")
                .arg(m_secrets.unavailableReason()));
        m_keychainNote->setForegroundRole(QPalette::WindowText);
        QPalette warning = palette();
        warning.setColor(QPalette::WindowText, errorColor(palette()));
        m_keychainNote->setPalette(warning);
    }
}

void ProfileEditor::touch(Field field)
{
    auto it = m_rows.find(field);
    if (it == m_rows.end() || it->touched)
        return;
    it->touched = true;
    validate();
}

QStringList ProfileEditor::problems() const
{
    QStringList list;
    for (auto it = m_problems.cbegin(); it != m_problems.cend(); ++it)
        list.append(QStringLiteral("%1: %2").arg(fieldName(it.key()), it.value()));
    return list;
}

QString ProfileEditor::problemAt(Field field) const
{
    const auto it = m_rows.constFind(field);
    if (it == m_rows.cend() || !it->error->isVisibleTo(this))
        return {};
    return it->error->text();
}

void ProfileEditor::validate()
{
    const ConnectionProfile current = profile();
    m_problems.clear();
    for (const ConnectionProfile::Problem &problem : current.problems()) {
        // The first problem of a field is the one to fix first.
        if (!m_problems.contains(problem.field))
            m_problems.insert(problem.field, problem.message);
    }
    if (!m_problems.contains(Field::Name)) {
        for (const QString &taken : m_takenNames) {
            if (taken.compare(current.name, Qt::CaseInsensitive) == 0) {
                m_problems.insert(
                    Field::Name, tr("Another connection is already called “%1”.").arg(taken));
                break;
            }
        }
    }
    const QString secretText = secret();
    if (!m_problems.contains(Field::Secret) && secretText != secretText.trimmed())
        m_problems.insert(
            Field::Secret, tr("Starts or ends with a space or line break: a copy-and-paste slip?"));

    QStringList untouched;
    const QColor red = errorColor(palette());
    for (auto it = m_rows.begin(); it != m_rows.end(); ++it) {
        const QString message = m_problems.value(it.key());
        const bool show = !message.isEmpty() && it->touched;
        if (!message.isEmpty() && !it->touched)
            untouched.append(fieldName(it.key()));
        it->error->setText(message);
        QPalette errorPalette = it->error->palette();
        errorPalette.setColor(QPalette::WindowText, red);
        it->error->setPalette(errorPalette);
        it->error->setVisible(show);
        if (auto *edit = qobject_cast<QLineEdit *>(it->label->buddy())) {
            edit->setStyleSheet(show ? QStringLiteral("QLineEdit { border: 1px solid %1; "
                                                      "border-radius: 3px; padding: 2px; }")
                                           .arg(red.name())
                                     : QString());
            edit->setAccessibleDescription(message);
        }
    }
    QPushButton *save = saveButton();
    save->setEnabled(m_problems.isEmpty());
    save->setToolTip(m_problems.isEmpty()
            ? QString()
            : (untouched.isEmpty()
                    ? problems().join(u'\n')
                    : tr("Still to fill in: %1").arg(untouched.join(QStringLiteral(", ")))));
}

bool ProfileEditor::isTesting() const
{
    return !m_test->isEnabled();
}

QString ProfileEditor::testResultText() const
{
    return m_testResult->text();
}

void ProfileEditor::finishTest(bool ok, const QString &message)
{
    m_test->setEnabled(true);
    m_testResult->setText(message);
    QPalette resultPalette = palette();
    resultPalette.setColor(QPalette::WindowText,
        ok ? (palette().color(QPalette::Window).lightness() < 128 ? QColor(0x7e, 0xe7, 0x87)
                                                                  : QColor(0x2e, 0x7d, 0x32))
           : errorColor(palette()));
    m_testResult->setPalette(resultPalette);
    Q_EMIT testFinished(ok, message);
}

void ProfileEditor::testConnection()
{
    if (!m_problems.isEmpty()) {
        for (FieldRow &row : m_rows)
            row.touched = true;
        validate();
        finishTest(false, tr("Fix the fields marked first."));
        return;
    }
    const ConnectionProfile current = profile();
    const quint64 generation = ++m_testGeneration;
    m_test->setEnabled(false);
    m_testResult->setPalette(palette());
    m_testResult->setText(tr("Testing…"));
    if (!secret().isEmpty() || isNewProfile()) {
        m_tester->start(current, secret().trimmed());
        return;
    }
    // Editing without retyping the secret: test with the stored one.
    // No context object: the dialog may close first (see connectionmanagerdialog.cpp).
    m_secrets.read(current.secretKey())
        .then([this, guard = QPointer(this), current, generation](
                  const std::expected<QString, SecretStore::Error> &stored) {
            if (!guard || generation != m_testGeneration)
                return;
            if (!stored) {
                finishTest(false,
                    tr("No stored secret to test with (%1): type it above.")
                        .arg(stored.error().message));
                return;
            }
            m_tester->start(current, *stored);
        });
}

} // namespace streams
