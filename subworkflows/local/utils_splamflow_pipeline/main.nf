/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Start and end of a splamflow run: --help, parameter and samplesheet validation, versions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Plain Nextflow, no plugin (nf-schema would be downloaded at run time): the checks read
    nextflow_schema.json and assets/schema_input.json and apply the keywords those files use
    (required, type, enum, minimum, maximum, pattern, exists, uniqueEntries), so the schema
    files stay the single description of valid input. The samplesheet is read with nf-schema's
    rules (CSV or TSV by extension, quoted fields, paths relative to the launch folder). Every
    problem, the parameters' and every row's, is reported at once, before any task starts.

    Parameter values are converted to their schema type here: the strict syntax parser
    (default from Nextflow 26.04) may pass command-line values as text ('0.05', 'true'), the
    legacy parser converts them itself. The workflow uses the converted values; the closures
    in conf/modules.config read params and accept both forms.
----------------------------------------------------------------------------------------
*/

workflow PIPELINE_INITIALISATION {

    take:
    run_params  // map: the pipeline parameters

    main:
    def schema = new groovy.json.JsonSlurper().parseText(file("${projectDir}/nextflow_schema.json").text)
    if (isTrue(run_params.help)) {
        log.info(helpText(schema))
        exit(0)
    }
    def checked = checkParameters(run_params, schema)
    checked.warnings.each { warning -> log.warn(warning) }
    def typed = checked.typed
    def problems = checked.problems
    if (!typed.input && !typed.gtf) {
        problems << 'give --input (a samplesheet of BAMs/CRAMs), --gtf (an annotation), or both'
    }
    def model_problem = modelProblem(typed.model, shippedModels(file("${projectDir}/splamflow/models")))
    if (model_problem) {
        problems << model_problem
    }
    def conda_problem = condaProblem(isTrue(workflow.session.config.navigate('conda.enabled')), workflow.manifest.version)
    if (conda_problem) {
        problems << conda_problem
    }
    def process_config = (workflow.session.config.navigate('process') ?: [:]) as Map
    def score_settings = processSettings(process_config, scoreProcess(), workflow.session.config.navigate('executor'))
    def accelerator_note = acceleratorNote(score_settings)
    if (accelerator_note) {
        log.warn(accelerator_note)
    }
    def slurm_gpu_note = slurmGpuNote(score_settings)
    if (slurm_gpu_note) {
        log.warn(slurm_gpu_note)
    }
    def precision_problem = precisionProblem(typed.precision, score_settings)
    if (precision_problem) {
        problems << precision_problem
    }
    def rows = []
    def input = typed.input ? file(typed.input) : null
    if (input && input.isFile() && input.name ==~ /.+\.(csv|tsv)/) {
        def base = typed.input_base_dir ? file(typed.input_base_dir) : workflow.launchDir
        def sheet = readSamplesheet(input, file("${projectDir}/assets/schema_input.json"), base, typed.fasta != null)
        problems.addAll(sheet.problems)
        rows = sheet.rows
    }
    def gtf_meta = typed.gtf ? annotationMeta(typed.gtf) : null
    if (gtf_meta && rows.any { row -> row[0].id == gtf_meta.id }) {
        problems << "the annotation's output name '${gtf_meta.id}' (from --gtf) is also a sample id in ${typed.input}: rename one of them"
    }
    if (problems) {
        error("splamflow: invalid input, nothing was run:\n  - " + problems.join('\n  - '))
    }
    def software_warning = gpuSoftwareWarning(workflow.profile, workflow.containerEngine)
    if (software_warning) {
        log.warn(software_warning)
    }
    if (localGpuTurns(process_config, score_settings)) {
        log.info('splamflow: the local executor shares the GPUs of this machine: scoring tasks run one at a time')
    }

    // emits are bare names: Nextflow 25.04.0's strict parser drops `name = value` emits
    alignments = channel.fromList(rows)
    annotation = gtf_meta ? channel.of([gtf_meta, file(typed.gtf), []]) : channel.empty()
    fasta      = channel.value([[id: file(typed.fasta).simpleName], file(typed.fasta), fastaIndexes(typed.fasta)])
    // a shipped model's name goes to the scorer as `--model NAME` (conf/modules.config), no file is staged
    model      = channel.value(typed.model && !isModelName(typed.model) ? modelFiles(typed.model) : [])
    chunk_size = channel.value(typed.score_chunk_size)

    emit:
    alignments  // channel: [ val(meta), path(bam), path(index) or [] ]
    annotation  // channel: [ val(meta), path(gtf), [] ] (empty without --gtf)
    fasta       // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] or [] when one is missing ]
    model       // channel: [] or [ path(weights), path(json metadata) ]
    chunk_size  // value channel: junctions per scoring task
}

workflow PIPELINE_COMPLETION {

    take:
    outdir  // string: output directory

    main:
    // every module puts (process, tool, version) on the `versions` topic; one YAML entry per process.
    // Plain Strings only: a GString holding Nextflow objects cannot be serialised by collectFile.
    def workflow_versions = "Workflow:\n    Nextflow: ${workflow.nextflow.version}\n    splamflow: ${workflow.manifest.version}".toString()
    channel.topic('versions')
        .map { process, tool, version -> [process.tokenize(':').last(), "${tool}: ${version.toString().trim()}".toString()] }
        .unique()
        .groupTuple()
        .map { process, tools -> "${process}:\n".toString() + tools.sort().collect { tool -> "    ${tool}" }.join('\n') }
        .mix(channel.of(workflow_versions))
        .collectFile(
            storeDir: "${outdir}/pipeline_info",
            name: 'splamflow_software_versions.yml',
            sort: true,
            newLine: true
        )

    workflow.onComplete {
        log.info(completionMessage(outdir))
    }
}

/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Functions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
*/

// The last line of a run (a function: inside an onComplete closure `workflow` is not bound)
def completionMessage(String outdir) {
    return workflow.success
        ? "splamflow: done, results in ${outdir}"
        : "splamflow: failed, see ${outdir}/pipeline_info/ and .nextflow.log"
}

// true for true or 'true' (any case): what a boolean parameter may arrive as
def isTrue(Object value) {
    return value != null && value.toString().toLowerCase() == 'true'
}

// The scoring process as the configuration resolves it: names and labels are those of SPLAMFLOW_SCORE
// in BED_SCORE_COHORT_SPLAMFLOW (its fully-qualified name is the path of workflows to it)
def scoreProcess() {
    return [names: ['SPLAMFLOW_SCORE', 'SPLAMFLOW:BED_SCORE_COHORT_SPLAMFLOW:SPLAMFLOW_SCORE'], labels: ['process_medium', 'process_gpu']]
}

// A process's directives as Nextflow applies the configuration to it (ProcessConfig.applyConfig):
// the `withLabel` selectors matching one of its labels, then the `withName` selectors matching its
// simple or fully-qualified name, each in the order the configuration declares them, over the
// process-wide settings; the executor falls back to the `executor` scope, then to local
def processSettings(Map process_config, Map process, Object executor_config) {
    def config = process_config ?: [:]
    def settings = [:]
    config.each { key, value ->
        if (!key.toString().startsWith('with')) {
            settings[key.toString()] = value
        }
    }
    config.each { key, value ->
        def rule = key.toString()
        if (rule.startsWith('withLabel:') && value instanceof Map && selectorMatches(process.labels, rule.substring(10).trim())) {
            settings.putAll(value)
        }
    }
    process.names.each { name ->
        config.each { key, value ->
            def rule = key.toString()
            if (rule.startsWith('withName:') && value instanceof Map && selectorMatches([name], rule.substring(9).trim())) {
                settings.putAll(value)
            }
        }
    }
    def default_executor = executor_config instanceof Map ? executor_config.name : executor_config
    settings.executor = (settings.executor ?: default_executor ?: 'local').toString()
    return settings
}

// Nextflow's selector rule: the pattern is a regular expression matching the whole name (or one of
// the labels); a leading `!` negates it
def selectorMatches(List names, String pattern) {
    def negated = pattern.startsWith('!')
    def regex = negated ? pattern.substring(1).trim() : pattern
    return names.any { name -> name ==~ regex } != negated
}

// The accelerator as Nextflow resolves it for a task, where that can be done at start: a closure is
// called with the run's params, as a configuration closure sees them. One that reads anything else
// (task.attempt, task.executor, meta) cannot be called before its task exists: [unresolved: why]
def resolvedAccelerator(Object accelerator) {
    if (!(accelerator instanceof Closure)) {
        return [value: accelerator]
    }
    def known = [params: params].withDefault { name -> throw new MissingPropertyException("${name} is not known before the task runs".toString()) }
    def call = accelerator.rehydrate(known, accelerator.owner, accelerator.thisObject)
    call.resolveStrategy = Closure.DELEGATE_ONLY
    try {
        return [value: call.call()]
    } catch (Exception e) {
        return [unresolved: e.message]
    }
}

// Whether the scoring task asks for a GPU: an accelerator set by any selector, as resolved above (0,
// null, or a closure returning either, is no request); a closure that cannot be resolved at start is
// taken as a request (acceleratorNote says so)
def requestsGpu(Map settings) {
    def resolved = resolvedAccelerator(settings.accelerator)
    if (resolved.unresolved) {
        return true
    }
    def accelerator = resolved.value
    if (accelerator instanceof Map) {
        accelerator = accelerator.request ?: accelerator.limit
    }
    return accelerator != null && accelerator != 0
}

// The warning for an accelerator closure that cannot be resolved at start, or null
def acceleratorNote(Map settings) {
    def unresolved = resolvedAccelerator(settings.accelerator).unresolved
    return unresolved
        ? "splamflow: the accelerator of SPLAMFLOW_SCORE is a closure that cannot be evaluated at start (${unresolved}): taken as a GPU request (--precision fp16 allowed; on the local executor scoring tasks run one at a time)".toString()
        : null
}

// SLURM's executor ignores `accelerator`: the GPU request reaches it only in clusterOptions (the gpu
// profile's closure adds it). A warning, or null, when the scoring task asks for a GPU on SLURM and its
// clusterOptions, as the selectors leave them, are text (or a list) that asks for none: set by a
// selector of the configuration (withName:SPLAMFLOW_SCORE, or a label pattern such as 'process_.*'
// first declared after the profile's withLabel:process_gpu) they replace the profile's request, or no request was
// ever made (an accelerator of your own without -profile gpu). The job would run --device cuda on a
// node with no GPU given to it. A closure cannot be read before its task exists: not checked.
def slurmGpuNote(Map settings) {
    def options = settings.clusterOptions
    if (settings.executor != 'slurm' || !requestsGpu(settings) || options instanceof Closure) {
        return null
    }
    if (options != null && options.toString() =~ /--gres[= ]\S*gpu|--gpus|(^|[\s,\[])-G([\s,\]\d=]|$)/) {
        return null
    }
    return "splamflow: SPLAMFLOW_SCORE asks for a GPU (accelerator) but its SLURM clusterOptions (${options == null ? 'none' : options}) ask for none, and SLURM's executor ignores accelerator: the scoring jobs would get no GPU. Use -profile gpu, and add --gres=gpu:1 to the clusterOptions a selector of yours sets for SPLAMFLOW_SCORE (by its name or a label pattern) (docs/nextflow.md, Clusters)".toString()
}

// The local executor of Nextflow 25.04 gives every task every GPU of the machine, and the scorer
// uses the first: there, GPU tasks run one at a time unless the configuration sets maxForks itself.
// A scheduler (SLURM, the cloud batch services, Kubernetes) gives each task its own GPU: no limit.
// The limit goes into the configuration before the workflow's processes are created, which is when
// Nextflow applies it (ProcessDef.initialize).
def localGpuTurns(Map process_config, Map settings) {
    if (requestsGpu(settings) && settings.executor == 'local' && settings.maxForks == null) {
        process_config.put('withName:SPLAMFLOW_SCORE', ((process_config.get('withName:SPLAMFLOW_SCORE') ?: [:]) as Map) + [maxForks: 1])
        return true
    }
    return false
}

// fp16 runs on GPUs only (bf16 runs on CPU too): without one SPLAMFLOW_SCORE would fail after extraction
def precisionProblem(Object precision, Map score) {
    if (precision == 'fp16' && !requestsGpu(score)) {
        return '--precision fp16 needs a GPU (-profile gpu, or an accelerator for SPLAMFLOW_SCORE); on CPU use bf16 or fp32'
    }
    return null
}

// The modules' conda environments install splamflow==<version> from PyPI: refused while that
// release is not published there (add the version here when it is)
def condaProblem(boolean conda_enabled, String version) {
    def on_pypi = []
    if (conda_enabled && !(version in on_pypi)) {
        return "-profile conda: the modules' conda environments install splamflow==${version} from PyPI, which does not have that version yet; use -profile docker, podman, singularity or apptainer, or no profile with splamflow installed (pip install . in a clone)".toString()
    }
    return null
}

// `-profile gpu` alone runs SPLAMFLOW_SCORE with whatever splam_score.py is on PATH
def gpuSoftwareWarning(String profile, Object engine) {
    def profiles = (profile ?: '').tokenize(',')
    def software = ['docker', 'podman', 'singularity', 'apptainer', 'conda']
    if ('gpu' in profiles && engine == null && !profiles.any { name -> name in software }) {
        return 'splamflow: -profile gpu without docker, podman, singularity, apptainer or conda: tasks run the splam_score.py found on PATH, which needs a CUDA build of torch'
    }
    return null
}

// Every parameter of nextflow_schema.json, name -> its schema, and the required names
def schemaParameters(Map schema) {
    def specs = [:]
    def required = []
    schema['$defs'].each { group_name, group ->
        group.properties.each { name, spec -> specs[name] = spec + [group: group.title] }
        required.addAll(group.required ?: [])
    }
    return [specs: specs, required: required]
}

// A value converted to a JSON schema type: [value: converted] or [problem: message]
def typedValue(String label, Object value, String type) {
    def text = value.toString().trim()
    if (type == 'boolean') {
        if (value instanceof Boolean) {
            return [value: value]
        }
        if (text.toLowerCase() in ['true', 'false']) {
            return [value: text.toLowerCase() == 'true']
        }
        return [problem: "${label} must be true or false, not '${value}'"]
    }
    if (type == 'integer') {
        if (value instanceof Integer || value instanceof Long) {
            return [value: value]
        }
        if (value instanceof CharSequence && text ==~ /[+-]?\d{1,18}/) {
            return [value: text.toLong()]
        }
        return [problem: "${label} must be a whole number, not '${value}'"]
    }
    if (type == 'number') {
        if (value instanceof Number) {
            return [value: value]
        }
        if (value instanceof CharSequence && text ==~ /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/) {
            return [value: text.toBigDecimal()]
        }
        return [problem: "${label} must be a number, not '${value}'"]
    }
    if (type == 'string') {
        // the legacy parser turns `--outdir 2024` into a number and a bare `--outdir` into true
        if (value instanceof Boolean) {
            return [problem: "${label} needs a value"]
        }
        return [value: value.toString()]
    }
    return [value: value]
}

// Problems with a typed value against one property of a schema (empty list when it is valid)
def valueProblems(String label, Object value, Map spec, Object base) {
    def problems = []
    def allowed = spec['enum']
    if (allowed && !(value.toString() in allowed)) {
        problems << "${label} must be one of ${allowed.join(', ')}, not '${value}'"
    }
    if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
        problems << "${label} must be at least ${spec.minimum}, not ${value}"
    }
    if (spec.maximum != null && value instanceof Number && value > spec.maximum) {
        problems << "${label} must be at most ${spec.maximum}, not ${value}"
    }
    if (spec.pattern && !(value.toString() ==~ spec.pattern)) {
        problems << (spec.errorMessage ? "${label}: ${spec.errorMessage} ('${value}')" : "${label} '${value}' does not match ${spec.pattern}")
    }
    if (spec.exists && !problems && !resolvePath(value.toString(), base).exists()) {
        problems << "${label}: file not found: ${resolvePath(value.toString(), base)}"
    }
    return problems
}

// A path as written, or relative to `base` (a folder) when it is relative and base is given
def resolvePath(String path, Object base) {
    def given = file(path)
    if (base == null || path.startsWith('/') || path.contains('://')) {
        return given
    }
    return base.resolve(path).normalize()
}

// Lower case without '_' and '-': how a mistyped parameter name is matched to a real one
def squashed(String name) {
    return name.toLowerCase().replaceAll(/[_-]/, '')
}

// Levenshtein distance, for "did you mean" suggestions
def editDistance(String a, String b) {
    def previous = (0..b.length()).toList()
    a.eachWithIndex { char_a, i ->
        def current = [i + 1]
        b.eachWithIndex { char_b, j ->
            current << [previous[j + 1] + 1, current[j] + 1, previous[j] + (char_a == char_b ? 0 : 1)].min()
        }
        previous = current
    }
    return previous[b.length()]
}

// Check the pipeline parameters against nextflow_schema.json.
// Returns [typed: name -> typed value, problems: [message, ...], warnings: [message, ...]].
// A parameter the schema does not know is an error when it is close to a known name (a typo,
// or --score-chunk-size for --score_chunk_size) and a warning otherwise (institutional configs
// may set parameters of their own).
def checkParameters(Map run_params, Map schema) {
    def parameters = schemaParameters(schema)
    def values = [:]
    def problems = []
    def warnings = []
    parameters.required.each { name ->
        if (run_params[name] == null) {
            problems << "--${name} is required (${parameters.specs[name]?.description ?: 'see --help'})"
        }
    }
    run_params.each { name, value ->
        def spec = parameters.specs[name]
        if (spec == null) {
            def near = parameters.specs.keySet().findAll { known -> editDistance(squashed(name), squashed(known)) <= 2 }
            if (near) {
                problems << "unknown parameter --${name}: did you mean --${near.sort().join(' or --')}?"
            } else {
                warnings << "splamflow: unknown parameter --${name} is ignored (not in nextflow_schema.json)"
            }
            return
        }
        if (value == null) {
            values[name] = null
            return
        }
        def typed = typedValue("--${name}", value, spec.type)
        if (typed.problem) {
            problems << typed.problem
            return
        }
        values[name] = typed.value
        problems.addAll(valueProblems("--${name}", typed.value, spec, null))
    }
    return [typed: values, problems: problems, warnings: warnings]
}

// `--help`: the parameters of nextflow_schema.json by group, with their defaults
def helpText(Map schema) {
    def lines = [
        "splamflow ${workflow.manifest.version}: ${schema.description}",
        '',
        'Usage:',
        '  nextflow run . -profile <docker|podman|singularity|apptainer|conda>[,gpu] --input samplesheet.csv --fasta genome.fa --outdir results',
        '  nextflow run . -profile test --outdir results'
    ]
    schema['$defs'].each { group_name, group ->
        def shown = group.properties.findAll { name, spec -> !spec.hidden }
        if (!shown) {
            return
        }
        lines << ''
        lines << "${group.title}:"
        shown.each { name, spec ->
            def required = name in (group.required ?: []) ? ' (required)' : ''
            def choices = spec['enum'] ? " [${spec['enum'].join('|')}]" : ''
            def fallback = spec.default != null ? " [default: ${spec.default}]" : ''
            lines << "  --${name.padRight(18)} ${spec.description}${required}${choices}${fallback}"
        }
    }
    lines << ''
    lines << 'Hidden options (publish_dir_mode, ...) and the outputs: docs/nextflow.md'
    return lines.join('\n')
}

// The index files beside a FASTA (.fai; .gzi too for a .gz name), or [] when one is missing: then
// PREPARE_GENOME writes them (and recompresses a plain-gzip FASTA with bgzip)
def fastaIndexes(String fasta) {
    def indexes = [file("${fasta}.fai")] + (fasta.endsWith('.gz') ? [file("${fasta}.gzi")] : [])
    return indexes.every { index -> index.exists() } ? indexes : []
}

// meta map of the annotation (annotation mode); its id names the output folder
def annotationMeta(String gtf) {
    return [id: file(gtf).name.replaceAll(/\.(gtf|gff|gff3)(\.gz)?$/, ''), type: 'annotation']
}

// The names of the models shipped in the package (splamflow/models/splam_NAME.safetensors, as
// splamflow.versions reads them), sorted, then `default`, the name of the one used without --model
def shippedModels(Object folder) {
    def names = (folder.listFiles() ?: []).collect { path -> (path.name =~ /^splam_([a-z0-9][a-z0-9_-]*)\.safetensors$/) }
        .findAll { match -> match.matches() && match.group(1) != 'default' }
        .collect { match -> match.group(1) }
    return names.sort() + ['default']
}

// --model is a shipped model's name (no '.', no '/') or a file
def isModelName(Object model) {
    return model.toString() ==~ /[a-z0-9][a-z0-9_-]*/
}

// An unknown name, or a file that does not exist (a value of neither form fails the schema's pattern)
def modelProblem(Object model, List names) {
    if (!model) {
        return null
    }
    if (isModelName(model)) {
        return model in names ? null : "--model '${model}' is not a shipped model (shipped: ${names.join(', ')}) nor a model file (.safetensors, .pt or .pth)".toString()
    }
    if (model.toString() ==~ /\S+\.(safetensors|pt|pth)/ && !file(model.toString()).exists()) {
        return "--model: file not found: ${file(model.toString())}".toString()
    }
    return null
}

// Model weights plus their JSON metadata when it sits next to them (splamflow format)
def modelFiles(String model) {
    def weights = file(model)
    def metadata = file(model.replaceAll(/\.[^.\/]+$/, '.json'))
    return metadata.exists() && metadata != weights ? [weights, metadata] : [weights]
}

// "<samplesheet name> line <n>", the prefix of every samplesheet problem
def sheetLine(Object sheet, int number) {
    return "${sheet.name} line ${number}"
}

// The records of a CSV or TSV text as RFC 4180 reads them: a field in double quotes may hold the
// separator, line breaks and doubled quotes (""); cells are trimmed (nf-schema's `strip`). Nextflow's
// splitCsv, with which nf-schema reads sheets, takes neither doubled quotes nor line breaks inside
// quotes, and Nextflow ships no CSV library: hence this reader.
// Returns [records: [[line: its first line, cells: [...], problem: what is wrong or null], ...],
// problems: [...]]; blank lines are skipped
def delimitedRecords(String text, String sep, Object sheet) {
    def s = [records: [], problems: [], cells: [], cell: new StringBuilder(), mode: 'start', line: 1, first: 1, bad: null]
    def endCell = { ->
        s.cells << s.cell.toString().trim()
        s.cell = new StringBuilder()
        s.mode = 'start'
    }
    def endRecord = { ->
        endCell.call()
        if (s.bad || s.cells.size() > 1 || s.cells[0]) {
            s.records << [line: s.first, cells: s.cells, problem: s.bad]
        }
        s.cells = []
        s.bad = null
        s.first = s.line
    }
    text.replace('\r\n', '\n').each { ch ->
        if (s.mode == 'quoted') {
            if (ch == '"') {
                s.mode = 'closing'
            } else {
                s.cell << ch
                s.line += ch == '\n' ? 1 : 0
            }
        } else if (s.mode == 'closing' && ch == '"') {
            s.cell << ch
            s.mode = 'quoted'
        } else if (ch == sep) {
            endCell.call()
        } else if (ch == '\n') {
            s.line += 1
            endRecord.call()
        } else if (s.mode == 'closing' && ch.trim()) {
            s.bad = s.bad ?: 'text after the closing double quote of a field (a double quote inside a quoted field is written twice: "")'
        } else if (ch == '"' && s.mode == 'start' && !s.cell.toString().trim()) {
            s.cell = new StringBuilder()
            s.mode = 'quoted'
        } else if (ch == '"') {
            s.bad = s.bad ?: 'a double quote inside an unquoted field (quote the whole field and write the quote twice: "")'
        } else if (s.mode != 'closing') {
            s.cell << ch
        }
    }
    if (s.mode == 'quoted') {
        s.problems << "${sheetLine(sheet, s.first)}: a quoted field is not closed before the end of the file".toString()
    } else if (s.cells || s.cell.toString().trim() || s.mode == 'closing') {
        endRecord.call()
    }
    return [records: s.records, problems: s.problems]
}

// Cells less the empty ones at the end (nf-schema drops trailing separators)
def withoutTrailingEmpty(List cells) {
    def last = cells.findLastIndexOf { cell -> cell }
    return cells.take(last + 1)
}

// What is wrong with a row's alignments and index: a CRAM needs --fasta (its reference) and a .crai,
// a BAM a .bai or .csi
def alignmentProblems(String prefix, Map row, boolean has_fasta) {
    def problems = []
    def cram = row.bam.endsWith('.cram')
    if (cram && !has_fasta) {
        problems << "${prefix}: bam: ${row.bam} is a CRAM: give --fasta, the genome it was compressed against".toString()
    }
    if (row.bai && cram != row.bai.endsWith('.crai')) {
        problems << "${prefix}: bai: ${cram ? 'a CRAM is indexed by a .crai file' : 'a BAM is indexed by a .bai or .csi file'}, not ${row.bai}".toString()
    }
    return problems
}

// The index beside an alignments file when the sheet names none: .crai for CRAM, .bai or .csi for BAM
def indexBeside(Object alignments) {
    def endings = alignments.name.endsWith('.cram') ? ['.crai'] : ['.bai', '.csi']
    return endings.collect { ending -> file("${alignments}${ending}") }.find { candidate -> candidate.exists() }
}

// Read and check the samplesheet against schema_input.json with nf-schema's rules: CSV or TSV by
// the file's extension, RFC 4180 quoting, relative paths resolved against `base` (the launch
// folder), every problem of every row reported. `has_fasta`: whether --fasta is given (CRAM rows need it).
// Returns [rows: [[meta, alignments, index or []], ...], problems: [message, ...]]
def readSamplesheet(Object sheet, Object schema_file, Object base, boolean has_fasta) {
    def schema = new groovy.json.JsonSlurper().parseText(schema_file.text)
    def properties = schema.items.properties
    def required = schema.items.required ?: []
    // a UTF-8 byte order mark (Excel's "CSV UTF-8") is not part of the first column's name
    def parsed = delimitedRecords(sheet.text.replaceFirst(/^\uFEFF/, ''), sheet.name.endsWith('.tsv') ? '\t' : ',', sheet)
    def problems = parsed.problems
    def rows = []
    def records = parsed.records
    if (!records && !problems) {
        return [rows: [], problems: ["${sheet}: empty samplesheet, expected a header line `${properties.keySet().join(',')}`"]]
    }
    if (!records || records[0].problem) {
        return [rows: [], problems: records ? problems + ["${sheetLine(sheet, records[0].line)}: ${records[0].problem}"] : problems]
    }
    def header = withoutTrailingEmpty(records[0].cells)
    def missing = required.findAll { column -> !(column in header) }
    def unknown = header.findAll { column -> !(column in properties.keySet()) }
    def repeated = header.findAll { column -> header.count(column) > 1 }.unique()
    if (missing) {
        problems << "${sheetLine(sheet, 1)}: missing column(s) ${missing.join(', ')} (header must be `${properties.keySet().join(',')}`, `bai` optional)"
    }
    if (unknown) {
        problems << "${sheetLine(sheet, 1)}: unknown column(s) ${unknown.join(', ')} (allowed: ${properties.keySet().join(', ')})"
    }
    if (repeated) {
        problems << "${sheetLine(sheet, 1)}: column(s) ${repeated.join(', ')} appear more than once"
    }
    if (missing || unknown || repeated) {
        return [rows: [], problems: problems]
    }
    def first_seen = [:]
    records.drop(1).each { record ->
        def number = record.line
        if (record.problem) {
            problems << "${sheetLine(sheet, number)}: ${record.problem}"
            return
        }
        def cells = record.cells.size() > header.size() ? withoutTrailingEmpty(record.cells) : record.cells
        if (cells.size() > header.size()) {
            problems << "${sheetLine(sheet, number)}: ${cells.size()} fields, the header has ${header.size()}"
            return
        }
        def row = [header, cells + [''] * (header.size() - cells.size())].transpose().collectEntries { column, cell -> [column, cell] }
        def row_problems = []
        required.findAll { column -> !row[column] }.each { column ->
            row_problems << "${sheetLine(sheet, number)}: ${column} is empty"
        }
        row.findAll { column, cell -> cell }.each { column, cell ->
            row_problems.addAll(valueProblems("${sheetLine(sheet, number)}: ${column}", cell, properties[column], base))
        }
        if (!row_problems) {
            row_problems.addAll(alignmentProblems(sheetLine(sheet, number), row, has_fasta))
        }
        schema.uniqueEntries?.each { column ->
            def value = row[column]
            def key = "${column}=${value}".toString()   // a String key: GStrings hash differently
            if (value && first_seen.containsKey(key)) {
                row_problems << "${sheetLine(sheet, number)}: ${column} '${value}' repeats line ${first_seen[key]}; ${column} values must be unique"
            } else if (value) {
                first_seen[key] = number
            }
        }
        problems.addAll(row_problems)
        if (!row_problems) {
            def alignments = resolvePath(row.bam, base)
            def index = row.bai ? resolvePath(row.bai, base) : indexBeside(alignments)
            rows << [[id: row.sample, type: 'alignments'], alignments, index ?: []]
        }
    }
    if (!rows && !problems) {
        problems << "${sheet}: no samples below the header line"
    }
    return [rows: rows, problems: problems]
}
